// Where Twilio serves the media of messages and the audio of recordings, for
// the gateway's SSRF-safe media fetch (src/net/media-policy.ts). MediaUrl and
// RecordingUrl name api.twilio.com (or a regional edge, api.<edge>.<region>.
// twilio.com), which asks for HTTP basic auth and redirects to short-lived
// storage URLs: mms.twiliocdn.com for media under "Enforce HTTP Auth", the
// older public bucket s3-external-1.amazonaws.com/media.twiliocdn.com/ for
// media from before it. Credentials go to the API hosts only; the storage
// hosts get none (the redirect URL carries its own signature).
export const TWILIO_MEDIA_HOSTS = [
  { host: /^api(\.[a-z0-9-]+){0,2}\.twilio\.com$/, credentials: true },
  { host: 'mms.twiliocdn.com', credentials: false },
  { host: 'media.twiliocdn.com', credentials: false },
  { host: 's3-external-1.amazonaws.com', pathPrefix: '/media.twiliocdn.com/', credentials: false },
] as const;
