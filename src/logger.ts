/**
 * The pino logger of the server. Secrets are redacted by path; values are never logged
 * anywhere, so only the authorization header needs it.
 */
import { pino, type DestinationStream, type Logger } from 'pino'
import type { Config } from './config.js'

export function createLogger(
  config: Pick<Config, 'logLevel'>,
  destination?: DestinationStream,
): Logger {
  const options = {
    level: config.logLevel,
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization'],
      censor: '[redacted]',
    },
  }
  return destination ? pino(options, destination) : pino(options)
}
