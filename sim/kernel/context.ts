// The per-open-file CPT context: container id, error fd, state, and the
// one-page message buffer that context requests flush to the error fd.

export const PAGE_SIZE = 4096;
/** The buffer is a C string in one page: at most PAGE_SIZE - 1 bytes before the NUL. */
export const MESSAGE_BUFFER_BYTES = PAGE_SIZE - 1;

export type ContextState = "idle" | "suspending";

const encoder = new TextEncoder();

export class CptContext {
  veid = 0;
  /** Set by CPT_SUSPEND-like work; vzcptcheck never gets here (SET_VEID answers EBUSY then). */
  state: ContextState = "idle";
  /** The fd number CPT_SET_ERRORFD installed (the device holds the file it names). */
  errorFd: number | null = null;
  #buffer = new Uint8Array(MESSAGE_BUFFER_BYTES);
  #used = 0;

  /** Bytes waiting for the next flush. */
  get pending(): number {
    return this.#used;
  }

  /**
   * eprintk_ctx: append "Error: <text>\n". [decision] The buffer only exists
   * once an error fd has been set; before that, messages reach the kernel log
   * only. A message that does not fit is cut at the page's end.
   */
  eprintk(text: string): void {
    if (this.errorFd === null) return;
    const bytes = encoder.encode(`Error: ${text}\n`);
    const room = MESSAGE_BUFFER_BYTES - this.#used;
    const n = Math.min(room, bytes.length);
    this.#buffer.set(bytes.subarray(0, n), this.#used);
    this.#used += n;
  }

  /** End of a context request: the buffer's bytes (if an error fd is set), then empty. */
  flush(): Uint8Array {
    if (this.errorFd === null || this.#used === 0) return new Uint8Array(0);
    const out = this.#buffer.slice(0, this.#used);
    this.#used = 0;
    return out;
  }
}
