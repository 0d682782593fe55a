// Email over SMTP with nodemailer (any relay: your MTA, SES, Mailgun …).
import nodemailer from 'nodemailer';
import { ProviderError, type ChannelAdapter, type EmailPayload } from '../types.js';

export function smtpEmail(o: { url: string }): ChannelAdapter<EmailPayload> {
  const transport = nodemailer.createTransport(o.url);
  return {
    provider: 'smtp',
    channel: 'EMAIL',
    async send({ payload }) {
      try {
        const info = await transport.sendMail({
          to: payload.to,
          from: { address: payload.from, name: payload.fromName ?? '' },
          replyTo: payload.replyTo,
          subject: payload.subject,
          text: payload.text,
          html: payload.html,
          messageId: payload.messageIdHeader,
          // MAIL FROM is our VERP address, so delivery-status reports come back to our inbound domain.
          ...(payload.returnPath ? { envelope: { from: payload.returnPath, to: payload.to } } : {}),
          list: { unsubscribe: { url: payload.listUnsubscribeUrl, comment: 'Unsubscribe' } },
          headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
        });
        // An SMTP relay's acceptance is the last word we get: the message is sent.
        return {
          provider: 'smtp',
          providerMessageId: info.messageId,
          status: 'SENT',
          detail: { response: info.response },
        };
      } catch (err) {
        const e = err as { responseCode?: number; code?: string; message?: string };
        const code = e.responseCode ? String(e.responseCode) : (e.code ?? 'network');
        // 5xx replies are permanent (550 mailbox unavailable → invalid address); 4xx and connection errors retry.
        const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500;
        throw new ProviderError(
          e.message ?? 'SMTP send failed',
          'smtp',
          code,
          !permanent,
          permanent && [550, 551, 553].includes(e.responseCode!) ? 'email_invalid' : undefined,
        );
      }
    },
    async close() {
      transport.close();
    },
  };
}
