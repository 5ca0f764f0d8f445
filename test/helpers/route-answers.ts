/**
 * What a client and an operator see of one answer apart from its body: status, the headers every answer
 * carries, and the log lines written under its request id. Two routes that must answer alike (a node:http
 * fast path and the express route it stands in for) are compared on this. Call it once the body is read:
 * the request line is logged when the response is done.
 */
export function routeAnswer(response: Response, logs: readonly string[]) {
  const requestId = response.headers.get("x-request-id");
  const lines = logs.map((line) => JSON.parse(line) as { requestId?: string; msg: string; level: number });
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    csp: response.headers.get("content-security-policy"),
    nosniff: response.headers.get("x-content-type-options"),
    hsts: response.headers.get("strict-transport-security"),
    retryAfter: response.headers.get("retry-after") !== null,
    logged: lines.filter((line) => line.requestId === requestId).map((line) => [line.level, line.msg.replace(/ \d+$/, "")]),
  };
}
