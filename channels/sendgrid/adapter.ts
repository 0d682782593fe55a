// Email through SendGrid's v3 Mail Send API with the official @sendgrid/mail.
import { Client } from '@sendgrid/client';
import { MailService } from '@sendgrid/mail';
import { ProviderError, type ChannelAdapter, type EmailPayload } from '../types.js';

export interface SendGridOptions {
  apiKey: string;
  baseUrl?: string;
}

export function sendgridEmail(o: SendGridOptions): ChannelAdapter<EmailPayload> {
  const client = new Client();
  client.setApiKey(o.apiKey);
  if (o.baseUrl) client.setDefaultRequest('baseUrl', o.baseUrl);
  const mail = new MailService();
  mail.setClient(client);
  return {
    provider: 'sendgrid',
    channel: 'EMAIL',
    async send({ payload }) {
      try {
        const [res] = await mail.send({
          to: payload.to,
          from: { email: payload.from, name: payload.fromName },
          replyTo: payload.replyTo,
          subject: payload.subject,
          text: payload.text,
          html: payload.html,
          headers: {
            'Message-ID': payload.messageIdHeader,
            'List-Unsubscribe': `<${payload.listUnsubscribeUrl}>`,
            'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
          },
          customArgs: payload.customArgs,
        });
        const id = String(res.headers['x-message-id'] ?? '');
        if (!id)
          throw new ProviderError(
            'SendGrid accepted the message without an X-Message-Id',
            'sendgrid',
            'no_message_id',
            true,
          );
        return { provider: 'sendgrid', providerMessageId: id, status: 'QUEUED' };
      } catch (err) {
        if (err instanceof ProviderError) throw err;
        const e = err as { code?: number; message?: string; response?: { body?: { errors?: { message: string }[] } } };
        const status = typeof e.code === 'number' ? e.code : undefined;
        const transient = status === undefined || status >= 500 || status === 429;
        const detail = e.response?.body?.errors?.map((x) => x.message).join('; ');
        throw new ProviderError(
          detail || e.message || 'SendGrid request failed',
          'sendgrid',
          status ? `http_${status}` : 'network',
          transient,
          undefined,
          status,
        );
      }
    },
  };
}
