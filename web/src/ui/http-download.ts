/**
 * Downloads a file from one of the service's plain HTTP routes (the failed
 * rows of a job) with the bearer token — a link cannot carry it — and saves
 * it under the name the server gives in Content-Disposition.
 */

/** The file name of a Content-Disposition header (`filename*=UTF-8''…` preferred), or undefined. */
export function fileNameOf(disposition: string | null): string | undefined {
  if (!disposition) return undefined;
  const extended = disposition.match(/filename\*\s*=\s*UTF-8''([^;]+)/i);
  if (extended) return decodeURIComponent(extended[1]!.trim());
  return disposition.match(/filename\s*=\s*"((?:[^"\\]|\\.)*)"/i)?.[1]?.replace(/\\(.)/g, "$1") ?? disposition.match(/filename\s*=\s*([^;]+)/i)?.[1]?.trim();
}

export async function downloadFromRoute(path: string, token: string | undefined, fallbackName: string): Promise<string> {
  const res = await fetch(path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { message?: string };
    throw new Error(body.message ?? `the download was answered ${res.status}`);
  }
  const name = fileNameOf(res.headers.get("content-disposition")) ?? fallbackName;
  const url = URL.createObjectURL(await res.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return name;
}
