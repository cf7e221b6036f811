import AjvCompiler from '@fastify/ajv-compiler';

type BuildValidator = AjvCompiler.BuildCompilerFromPool;
/** What Fastify calls a built compiler with (the package's types say a bare schema; it is this). */
type CompileRoute = (route: { schema?: unknown; method: string; url: string; httpPart?: string }) => unknown;

/**
 * Fastify's validator compilers, with type coercion for the parts that arrive as text only.
 * Fastify's Ajv coerces everywhere (`coerceTypes: 'array'`): a query parameter `limit=5` becomes
 * the number its schema names, as it must, but a JSON body's `"pipeline": 123` became "123", an
 * `"amount": "5"` became 5 and a lone `"doc_x"` a list of one, all taken without a word. A JSON
 * body has types of its own: a value of the wrong one is refused (400 `validation_failed`,
 * "body/pipeline must be string"). Querystring, params and headers keep Fastify's coercion.
 */
export function bodiesUncoerced(): BuildValidator {
  const pool = AjvCompiler();
  return (externalSchemas, options) => {
    const coercing = pool(externalSchemas, options) as unknown as CompileRoute;
    // Fastify's Ajv is never in JTD mode here: its options are Ajv's.
    const customOptions: AjvCompiler.Options = { ...options?.customOptions, coerceTypes: false };
    const exact = pool(externalSchemas, { ...options, mode: undefined, customOptions }) as unknown as CompileRoute;
    const compile: CompileRoute = (route) => (route.httpPart === 'body' ? exact : coercing)(route);
    return compile as unknown as ReturnType<BuildValidator>;
  };
}
