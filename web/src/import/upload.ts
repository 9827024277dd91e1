/**
 * The import's upload: `POST /import?async=true` with the form, sent with
 * XMLHttpRequest because fetch reports no upload progress, and a file of
 * hundreds of megabytes takes long enough that a person must see it move.
 * The service answers 202 with the job's id once the whole file is in and the
 * job has started; the job's rows then come from WatchJob.
 *
 * Aborting the signal aborts the request: the service discards what it got
 * of the file and starts no job — unless the whole file had already reached
 * it, when a job may have started before the abort did. The request carries
 * its own name (`X-Request-Id`), kept on the job, so that the page can ask
 * (cancelled-upload.ts).
 */

export interface UploadProgress {
  /** Bytes of the request body sent so far, and in all (the form's multipart body, a little more than the file). */
  sent: number;
  total: number;
}

export class UploadAbortedError extends Error {
  override name = "AbortError";
  constructor() {
    super("the upload was cancelled");
  }
}

export interface UploadStarted {
  jobId: string;
}

/** Uploads `form` as the request `requestId`, reporting progress; resolves with the job that started, rejects with the service's message. */
export function uploadImport(form: FormData, requestId: string, token: string | undefined, onProgress: (progress: UploadProgress) => void, signal: AbortSignal): Promise<UploadStarted> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new UploadAbortedError());
      return;
    }
    const xhr = new XMLHttpRequest();
    const abort = () => xhr.abort();
    signal.addEventListener("abort", abort, { once: true });
    const done = () => signal.removeEventListener("abort", abort);
    xhr.open("POST", "/import?async=true");
    if (token) xhr.setRequestHeader("authorization", `Bearer ${token}`);
    xhr.setRequestHeader("x-request-id", requestId);
    xhr.responseType = "text";
    xhr.upload.onprogress = (e) => onProgress({ sent: e.loaded, total: e.lengthComputable ? e.total : 0 });
    xhr.upload.onload = (e) => onProgress({ sent: e.loaded, total: e.lengthComputable ? e.total : e.loaded });
    xhr.onabort = () => {
      done();
      reject(new UploadAbortedError());
    };
    xhr.onerror = () => {
      done();
      reject(new Error("the upload failed: the connection to the service was lost"));
    };
    xhr.onload = () => {
      done();
      let body: { jobId?: string; message?: string } = {};
      try {
        body = JSON.parse(xhr.responseText) as typeof body;
      } catch {
        // Not JSON: the status says what happened.
      }
      if (xhr.status === 202 && body.jobId) resolve({ jobId: body.jobId });
      else reject(new Error(body.message ?? `the upload was answered ${xhr.status}`));
    };
    xhr.send(form);
  });
}
