/**
 * The HTTP front door for Slack, hardened: every request to /slack/events must carry a valid Slack signature
 * made with SLACK_SIGNING_SECRET over a timestamp at most five minutes old (Bolt's verifier; replays and
 * forgeries get 401), and bodies over MAX_REQUEST_BODY_BYTES are refused with 413 before they are parsed.
 * Signature checking cannot be turned off here: the option is fixed, not read from anywhere.
 */
import { type Logger as BoltLogger, HTTPReceiver } from '@slack/bolt';
import type { CustomRoute } from '@slack/bolt/dist/receivers/custom-routes.js';
import { drainRefusedBody } from './body-limit.ts';

/** Largest request body accepted: Slack's payloads are a few kilobytes, a big modal state well under 1 MB. */
export const MAX_REQUEST_BODY_BYTES = 1024 * 1024;

/** An HTTPReceiver that always verifies signatures and timestamps and limits body size. */
export function createVerifiedReceiver(options: {
  signingSecret: string;
  port: number;
  customRoutes?: CustomRoute[];
  logger: BoltLogger;
  processBeforeResponse?: boolean;
  maxBodyBytes?: number;
}): HTTPReceiver {
  if (!options.signingSecret) throw new Error('HTTP mode needs SLACK_SIGNING_SECRET to verify requests');
  const receiver = new HTTPReceiver({
    signingSecret: options.signingSecret,
    signatureVerification: true,
    bodyLimit: options.maxBodyBytes ?? MAX_REQUEST_BODY_BYTES,
    port: options.port,
    customRoutes: options.customRoutes ?? [],
    logger: options.logger,
    processBeforeResponse: options.processBeforeResponse ?? false,
  });
  // Bolt answers 413 and stops reading, which leaves a client still sending blocked until the connection is
  // reset under it; reading the rest lets it get the answer.
  const handle = receiver.requestListener;
  receiver.requestListener = (req, res) => {
    res.once('finish', () => {
      if (res.statusCode === 413) drainRefusedBody(req);
    });
    return handle(req, res);
  };
  return receiver;
}
