/**
 * Answers to what Node's HTTP parser refuses before a route can answer: a malformed
 * request line or header, headers too large or too slow, a body cut short by a
 * connection half-closed in its middle. There is no request object to answer with, so
 * the answer is written on the socket directly, but in the coded shape of every other
 * error, and the connection is then closed. One whose answer has already begun is only
 * closed: a second answer written into the first would garble both.
 */
import type { FastifyInstance } from 'fastify'
import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { ParkdError, type ErrorCode } from '../errors.js'
import { errorBody } from './error-handler.js'

function codeFor(error: NodeJS.ErrnoException): ErrorCode {
  if (error.code === 'HPE_HEADER_OVERFLOW') return 'HEADERS_TOO_LARGE'
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'REQUEST_TIMEOUT'
  return 'BAD_REQUEST'
}

/** The answer Node began on this socket, if any (Node keeps it there, unexported). */
function answerInProgress(socket: Socket): ServerResponse | undefined {
  return (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage
}

export function answerClientError(
  this: FastifyInstance,
  error: NodeJS.ErrnoException,
  socket: Socket,
): void {
  // A reset connection is gone already: there is no one to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return

  const refused = new ParkdError(codeFor(error))
  this.log.debug({ code: refused.code, reason: error.code }, 'client error')
  if (socket.writable && !answerInProgress(socket)?.headersSent) {
    const body = errorBody(refused)
    const text = JSON.stringify(body)
    socket.write(
      `HTTP/1.1 ${body.statusCode} ${body.error}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
    )
  }
  socket.destroy()
}
