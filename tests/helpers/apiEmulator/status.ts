/**
 * `Status` failure objects worded like kube-apiserver's (k8s.io/apimachinery/pkg/api/errors),
 * thrown as `ApiError` inside the emulator and written as the response body.
 */

export type StatusCause = {reason?: string; message: string; field?: string};

export type StatusObject = {
  kind: `Status`;
  apiVersion: `v1`;
  metadata: Record<string, never>;
  status: `Failure`;
  message: string;
  reason: string;
  details?: {name?: string; group?: string; kind?: string; causes?: StatusCause[]; retryAfterSeconds?: number};
  code: number;
};

/** An error the emulator answers with a full `Status` body. */
export class ApiError extends Error {
  readonly status: StatusObject;
  readonly headers: Record<string, string>;

  constructor(status: StatusObject, headers: Record<string, string> = {}) {
    super(status.message);
    this.status = status;
    this.headers = headers;
  }
}

/** Qualified resource name as the server prints it: `secrets`, `deployments.apps`. */
export function qualified(resource: string, group: string): string {
  return group === `` ? resource : `${resource}.${group}`;
}

function status(code: number, reason: string, message: string, details?: StatusObject[`details`]): StatusObject {
  return {kind: `Status`, apiVersion: `v1`, metadata: {}, status: `Failure`, message, reason, ...(details ? {details} : {}), code};
}

function details(name: string | undefined, resource: string, group: string, extra: Partial<NonNullable<StatusObject[`details`]>> = {}) {
  return {...(name !== undefined && name !== `` ? {name} : {}), ...(group !== `` ? {group} : {}), kind: resource, ...extra};
}

export const errors = {
  notFound(resource: string, group: string, name: string): ApiError {
    return new ApiError(status(404, `NotFound`, `${qualified(resource, group)} "${name}" not found`, details(name, resource, group)));
  },
  alreadyExists(resource: string, group: string, name: string): ApiError {
    return new ApiError(status(409, `AlreadyExists`, `${qualified(resource, group)} "${name}" already exists`, details(name, resource, group)));
  },
  conflict(resource: string, group: string, name: string, why = `the object has been modified; please apply your changes to the latest version and try again`): ApiError {
    return new ApiError(status(409, `Conflict`, `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": ${why}`, details(name, resource, group)));
  },
  invalid(kind: string, group: string, name: string, causes: Array<{field: string; type: string; detail: string; value?: unknown}>): ApiError {
    // field.ErrorList formatting: `<field>: <Type>: <value>: <detail>` joined by ", " inside [...] when several.
    const render = (c: {field: string; type: string; detail: string; value?: unknown}) =>
      `${c.field}: ${c.type}${c.value === undefined ? `` : `: ${renderValue(c.value)}`}${c.detail ? `: ${c.detail}` : ``}`;
    const list = causes.length === 1 ? render(causes[0]!) : `[${causes.map(render).join(`, `)}]`;
    return new ApiError(status(422, `Invalid`, `${qualified(kind, group)} "${name}" is invalid: ${list}`, {
      name, ...(group !== `` ? {group} : {}), kind,
      causes: causes.map(c => ({reason: fieldReason(c.type), message: `${c.type}${c.value === undefined ? `` : `: ${renderValue(c.value)}`}${c.detail ? `: ${c.detail}` : ``}`, field: c.field})),
    }));
  },
  badRequest(message: string): ApiError {
    return new ApiError(status(400, `BadRequest`, message));
  },
  forbidden(resource: string, group: string, name: string | undefined, message: string): ApiError {
    const prefix = name ? `${qualified(resource, group)} "${name}"` : qualified(resource, group);
    return new ApiError(status(403, `Forbidden`, `${prefix} is forbidden: ${message}`, details(name, resource, group)));
  },
  unauthorized(): ApiError {
    return new ApiError(status(401, `Unauthorized`, `Unauthorized`));
  },
  methodNotAllowed(): ApiError {
    return new ApiError(status(405, `MethodNotAllowed`, `the server does not allow this method on the requested resource`));
  },
  notFoundPath(): ApiError {
    return new ApiError(status(404, `NotFound`, `the server could not find the requested resource`));
  },
  unsupportedMediaType(contentType: string): ApiError {
    return new ApiError(status(415, `UnsupportedMediaType`, `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got ${contentType})`));
  },
  unprocessable(message: string): ApiError {
    // handlers/patch.go: a patch that cannot be applied is a generic 422.
    return new ApiError(status(422, `Invalid`, message));
  },
  gone(message: string): ApiError {
    return new ApiError(status(410, `Expired`, message));
  },
  tooManyRequests(retryAfterSeconds: number): ApiError {
    return new ApiError(status(429, `TooManyRequests`, `Too many requests, please try again later.`, {retryAfterSeconds}), {'Retry-After': String(retryAfterSeconds)});
  },
  internal(message: string): ApiError {
    return new ApiError(status(500, `InternalError`, `Internal error occurred: ${message}`, {causes: [{message}]}));
  },
  unavailable(message: string): ApiError {
    return new ApiError(status(503, `ServiceUnavailable`, message));
  },
};

function fieldReason(type: string): string {
  switch (type) {
    case `Required value`: return `FieldValueRequired`;
    case `Invalid value`: return `FieldValueInvalid`;
    case `Unsupported value`: return `FieldValueNotSupported`;
    case `Forbidden`: return `FieldValueForbidden`;
    case `Duplicate value`: return `FieldValueDuplicate`;
    default: return `FieldValueInvalid`;
  }
}

function renderValue(value: unknown): string {
  if (typeof value === `string`)
    return JSON.stringify(value);
  return String(value);
}
