/**
 * Validation of a v3 /mail/send body, reporting problems the way SendGrid does:
 * every problem found, each with the JSON path of the field and a help link.
 */

export interface SendGridFieldError {
  message: string;
  field: string | null;
  help: string | null;
}

export interface EmailAddress {
  email: string;
  name?: string;
}

export interface Personalization {
  to: EmailAddress[];
  cc?: EmailAddress[];
  bcc?: EmailAddress[];
  subject?: string;
  headers?: Record<string, string>;
  custom_args?: Record<string, string>;
  substitutions?: Record<string, string>;
  dynamic_template_data?: Record<string, unknown>;
  send_at?: number;
}

export interface MailSendBody {
  personalizations: Personalization[];
  from: EmailAddress;
  reply_to?: EmailAddress;
  reply_to_list?: EmailAddress[];
  subject?: string;
  content?: { type: string; value: string }[];
  attachments?: { content: string; filename: string; type?: string; disposition?: string; content_id?: string }[];
  template_id?: string;
  headers?: Record<string, string>;
  categories?: string[];
  custom_args?: Record<string, string>;
  send_at?: number;
  batch_id?: string;
  asm?: { group_id: number; groups_to_display?: number[] };
  ip_pool_name?: string;
  mail_settings?: { sandbox_mode?: { enable?: boolean } } & Record<string, unknown>;
  tracking_settings?: Record<string, unknown>;
}

const HELP = 'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html';
const EMAIL = /^[^\s@<>",;]+@[^\s@<>",;]+\.[^\s@<>",;]+$/;
/** Headers SendGrid sets itself and refuses to take from the request. */
const RESERVED_HEADERS = new Set([
  'x-sg-id',
  'x-sg-eid',
  'received',
  'dkim-signature',
  'content-type',
  'content-transfer-encoding',
  'to',
  'from',
  'subject',
  'reply-to',
  'cc',
  'bcc',
]);
const MAX_RECIPIENTS = 1000;
const MAX_CUSTOM_ARGS_BYTES = 10_000;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

export function validateMailSend(body: unknown): SendGridFieldError[] {
  const errors: SendGridFieldError[] = [];
  const fail = (field: string | null, message: string, anchor = field ?? '') =>
    errors.push({ field, message, help: `${HELP}#message.${anchor}` });

  if (!isObject(body)) {
    fail(null, 'Bad Request');
    return errors;
  }

  const checkAddress = (value: unknown, field: string, required: boolean) => {
    if (value === undefined && !required) return;
    if (!isObject(value) || typeof value.email !== 'string' || !EMAIL.test(value.email)) {
      fail(`${field}.email`, 'Does not contain a valid address.', field);
      return;
    }
    if (value.name !== undefined && typeof value.name !== 'string') {
      fail(`${field}.name`, `Invalid type. Expected: string, given: ${typeName(value.name)}.`, field);
    }
  };

  const checkStringMap = (value: unknown, field: string) => {
    if (value === undefined) return;
    if (!isObject(value)) {
      fail(field, `Invalid type. Expected: object, given: ${typeName(value)}.`);
      return;
    }
    for (const [key, inner] of Object.entries(value)) {
      if (typeof inner !== 'string')
        fail(`${field}.${key}`, `Invalid type. Expected: string, given: ${typeName(inner)}.`, field);
    }
  };

  const checkHeaders = (value: unknown, field: string) => {
    checkStringMap(value, field);
    if (!isObject(value)) return;
    for (const name of Object.keys(value)) {
      if (RESERVED_HEADERS.has(name.toLowerCase()))
        fail(field, `The following header is reserved and cannot be set: ${name}`);
    }
  };

  const hasTemplate = typeof body.template_id === 'string' && body.template_id.length > 0;
  if (body.template_id !== undefined && typeof body.template_id !== 'string') {
    fail('template_id', `Invalid type. Expected: string, given: ${typeName(body.template_id)}.`);
  }

  // personalizations
  const personalizations = body.personalizations;
  let recipients = 0;
  let everyPersonalizationHasSubject = true;
  if (!Array.isArray(personalizations) || personalizations.length === 0) {
    fail('personalizations', 'The personalizations field is required and must have at least one personalization.');
    everyPersonalizationHasSubject = false;
  } else {
    personalizations.forEach((p: unknown, index: number) => {
      const base = `personalizations.${index}`;
      if (!isObject(p)) {
        fail(base, `Invalid type. Expected: object, given: ${typeName(p)}.`, 'personalizations');
        everyPersonalizationHasSubject = false;
        return;
      }
      if (!Array.isArray(p.to) || p.to.length === 0) {
        fail(
          `${base}.to`,
          'The to array is required for all personalization objects, and must have at least one email object with a valid email address.',
          'personalizations.to',
        );
      }
      const seen = new Set<string>();
      for (const kind of ['to', 'cc', 'bcc'] as const) {
        const list = p[kind];
        if (list === undefined) continue;
        if (!Array.isArray(list)) {
          fail(
            `${base}.${kind}`,
            `Invalid type. Expected: array, given: ${typeName(list)}.`,
            `personalizations.${kind}`,
          );
          continue;
        }
        list.forEach((address: unknown, i: number) => {
          checkAddress(address, `${base}.${kind}.${i}`, true);
          recipients += 1;
          if (isObject(address) && typeof address.email === 'string') {
            const key = address.email.toLowerCase();
            if (seen.has(key)) {
              fail(
                `${base}.${kind}`,
                'Each email address in the personalization block should be unique between to, cc, and bcc. We found the first duplicate instance of [' +
                  address.email +
                  '] in the personalizations.' +
                  index +
                  '.' +
                  kind +
                  ' field.',
                `personalizations.${kind}`,
              );
            }
            seen.add(key);
          }
        });
      }
      if (typeof p.subject !== 'string' || p.subject.length === 0) everyPersonalizationHasSubject = false;
      checkHeaders(p.headers, `${base}.headers`);
      checkStringMap(p.custom_args, `${base}.custom_args`);
      checkStringMap(p.substitutions, `${base}.substitutions`);
    });
  }
  if (recipients > MAX_RECIPIENTS) {
    fail('personalizations', `The total number of recipients must be no more than ${MAX_RECIPIENTS}.`);
  }

  // from / reply_to
  if (!isObject(body.from)) {
    fail(
      'from.email',
      'The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.',
      'from',
    );
  } else {
    checkAddress(body.from, 'from', true);
  }
  checkAddress(body.reply_to, 'reply_to', false);
  if (body.reply_to_list !== undefined) {
    if (!Array.isArray(body.reply_to_list))
      fail('reply_to_list', `Invalid type. Expected: array, given: ${typeName(body.reply_to_list)}.`);
    else
      body.reply_to_list.forEach((a: unknown, i: number) => {
        checkAddress(a, `reply_to_list.${i}`, true);
      });
    if (body.reply_to !== undefined) fail('reply_to', 'The reply_to and reply_to_list fields cannot both be set.');
  }

  // subject
  const hasSubject = typeof body.subject === 'string' && body.subject.length > 0;
  if (!hasSubject && !everyPersonalizationHasSubject && !hasTemplate) {
    fail(
      'subject',
      'The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.',
    );
  }

  // content
  if (body.content === undefined || (Array.isArray(body.content) && body.content.length === 0)) {
    if (!hasTemplate) {
      fail(
        'content',
        'Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.',
      );
    }
  } else if (!Array.isArray(body.content)) {
    fail('content', `Invalid type. Expected: array, given: ${typeName(body.content)}.`);
  } else {
    body.content.forEach((block: unknown, i: number) => {
      if (!isObject(block) || typeof block.type !== 'string' || block.type.length === 0) {
        fail(
          `content.${i}.type`,
          'The content type cannot contain ";", or CRLF characters, and must be at least one character.',
          'content.type',
        );
        return;
      }
      if (typeof block.value !== 'string' || block.value.length === 0) {
        fail(
          `content.${i}.value`,
          'The content value must be a string at least one character in length.',
          'content.value',
        );
      }
      if (block.type === 'text/plain' && i !== 0) {
        fail(
          `content.${i}.type`,
          'If present, text/plain content must be first, followed by text/html, followed by any other content.',
          'content.type',
        );
      }
    });
  }

  // attachments
  if (body.attachments !== undefined) {
    if (!Array.isArray(body.attachments))
      fail('attachments', `Invalid type. Expected: array, given: ${typeName(body.attachments)}.`);
    else
      body.attachments.forEach((a: unknown, i: number) => {
        if (!isObject(a) || typeof a.filename !== 'string' || a.filename.length === 0) {
          fail(`attachments.${i}.filename`, 'The attachment filename parameter is required.', 'attachments.filename');
        }
        if (!isObject(a) || typeof a.content !== 'string' || a.content.length === 0) {
          fail(`attachments.${i}.content`, 'The attachment content is required.', 'attachments.content');
        } else if (!/^[A-Za-z0-9+/\r\n]*={0,2}$/.test(a.content)) {
          fail(`attachments.${i}.content`, 'The attachment content must be base64 encoded.', 'attachments.content');
        }
      });
  }

  checkHeaders(body.headers, 'headers');
  checkStringMap(body.custom_args, 'custom_args');
  if (isObject(body.custom_args) && Buffer.byteLength(JSON.stringify(body.custom_args)) > MAX_CUSTOM_ARGS_BYTES) {
    fail('custom_args', `The custom_args must total less than ${MAX_CUSTOM_ARGS_BYTES} bytes.`);
  }
  if (body.categories !== undefined) {
    if (!Array.isArray(body.categories) || body.categories.some((c: unknown) => typeof c !== 'string')) {
      fail('categories', 'The categories must be an array of strings.');
    } else if (body.categories.length > 10) {
      fail('categories', 'You cannot have more than 10 categories associated with an email.');
    }
  }
  if (body.asm !== undefined && (!isObject(body.asm) || !Number.isInteger(body.asm.group_id))) {
    fail('asm.group_id', 'The asm.group_id must be an integer.', 'asm.group_id');
  }
  return errors;
}
