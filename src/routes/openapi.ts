/**
 * GET /openapi.yaml: the OpenAPI document of this API, as shipped beside the code. It is
 * read once when the app is built, so a missing or unreadable file stops the server at
 * start rather than failing requests later.
 */
import type { FastifyInstance } from 'fastify'
import fs from 'node:fs/promises'

/** Two levels up from both src/routes/ and dist/routes/: the package root. */
const DOCUMENT = new URL('../../openapi.yaml', import.meta.url)

/** RFC 9512 defines no charset parameter for it; the file is UTF-8. */
const CONTENT_TYPE = 'application/yaml'

export async function openapiRoutes(app: FastifyInstance): Promise<void> {
  const document = await fs.readFile(DOCUMENT)

  app.get('/openapi.yaml', async (_request, reply) => reply.type(CONTENT_TYPE).send(document))
}
