// What a docker-registry answered, read from its log (info level): one `response completed` line per request it
// served (`response completed with error` for 4xx/5xx), and `error authorizing context` for a request it refused with
// 401 (which gets no `response completed` line). The client address tells connections apart: one per TCP connection.
import fs from 'node:fs';

export type LoggedRequest = {method: string; uri: string; status: number; client: string};

const field = (line: string, name: string): string | undefined => new RegExp(`${name.replace(/\./g, `\\.`)}=(?:"([^"]*)"|(\\S+))`).exec(line)?.slice(1).find(value => value !== undefined);

/** The requests logged in `file` after byte `from`, in order. */
export function readRequestLog(file: string, from = 0): LoggedRequest[] {
  const text = fs.readFileSync(file).subarray(from).toString(`utf8`);
  const requests: LoggedRequest[] = [];
  for (const line of text.split(`\n`)) {
    const refused = line.includes(`msg="error authorizing context`);
    if (!refused && !line.includes(`msg="response completed`))
      continue;
    requests.push({
      method: field(line, `http.request.method`) ?? `?`,
      uri: field(line, `http.request.uri`) ?? ``,
      status: refused ? 401 : Number(field(line, `http.response.status`) ?? 0),
      client: field(line, `http.request.remoteaddr`) ?? ``,
    });
  }
  return requests;
}

/**
 * The requests logged in `file` after byte `from`, once `enough` says they are all in (the registry logs a request
 * just after answering it, so a client can be done before its last line is written), or after 2 s.
 */
export async function settledRequestLog(file: string, from: number, enough: (requests: LoggedRequest[]) => boolean): Promise<LoggedRequest[]> {
  for (const deadline = Date.now() + 2000; !enough(readRequestLog(file, from)) && Date.now() < deadline;)
    await new Promise(resolve => setTimeout(resolve, 20));
  return readRequestLog(file, from);
}
