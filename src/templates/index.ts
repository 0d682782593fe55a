// Public API of the message templates: load and validate at start-up, render
// per intent × channel × locale, print letters.
export {
  INTENTS,
  TEMPLATE_CHANNELS,
  REQUIRED_CHANNELS,
  VOICE_MENU_DIGITS,
  isIntent,
  isTemplateChannel,
  type Intent,
  type TemplateChannel,
  type VoiceMenuAction,
} from './intents.js';
export { TemplateError, TemplateValidationError, type TemplateErrorCode, type TemplateProblem } from './errors.js';
export {
  BASE_LOCALE,
  TemplateRegistry,
  defaultTemplatesDir,
  loadTemplates,
  localeFallbackChain,
  type AmountTableRow,
  type LoadTemplatesOptions,
  type RenderRequest,
  type RenderedEmail,
  type RenderedFor,
  type RenderedLetter,
  type RenderedMessage,
  type RenderedSms,
  type RenderedVoice,
  type TemplateMeta,
} from './registry.js';
export { TEMPLATE_VARIABLES, type MessageVars, type TemplateVariable } from './variables.js';
export type { ExtraService, MailType, Tone } from './template-files.js';
export { formatMoney, formatDate } from './formatting.js';
export { measureSms, type SmsEncoding, type SmsMeasure } from './sms-encoding.js';
export { voicemailFindings } from './content-rules.js';
export {
  DEBT_COLLECTOR_DISCLOSURE_JURISDICTIONS,
  PRIVATE_AND_CONFIDENTIAL_JURISDICTIONS,
  type JurisdictionRules,
} from './jurisdiction-rules.js';
export { renderLetterPdf, type LetterPdfOptions, type PostalAddress } from './letter-pdf.js';
