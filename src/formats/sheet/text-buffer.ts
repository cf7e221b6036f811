// Text gathered as UTF-8 bytes outside the V8 heap, made a string once at the end. A pool thread
// packing a batch of rows kept each row's JSON text and CSV record as a string until the batch
// was done: a few thousand small strings alive across the young generation's collections, copied
// and promoted by each, which was most of the thread's garbage-collection time. Here each row's
// strings die young, and the batch's text is one string (docs/benchmarks.md, "Spreadsheets").

/** Bytes a buffer starts with. */
const FIRST_BYTES = 64 * 1024;

export class TextBuffer {
  #bytes = Buffer.allocUnsafe(FIRST_BYTES);
  #length = 0;

  append(text: string): void {
    // A UTF-16 code unit is at most 3 bytes of UTF-8 (a surrogate pair, 2 units, is 4).
    const room = this.#length + text.length * 3;
    if (room > this.#bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(room, this.#bytes.length * 2));
      this.#bytes.copy(grown, 0, 0, this.#length);
      this.#bytes = grown;
    }
    this.#length += this.#bytes.write(text, this.#length);
  }

  toString(): string {
    return this.#bytes.toString('utf8', 0, this.#length);
  }
}
