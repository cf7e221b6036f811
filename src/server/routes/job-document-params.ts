/** The path parameters of a route under `/v1/jobs/:id/documents/:documentId`. */
export const JOB_DOCUMENT_PARAMS = {
  type: 'object',
  required: ['id', 'documentId'],
  properties: { id: { type: 'string', minLength: 1, description: 'Job id' }, documentId: { type: 'string', minLength: 1, description: 'Document id' } },
} as const;
