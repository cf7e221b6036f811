// The records of a CSV the byte scan vouched for (csv-scan.ts): every quote opens a field or
// closes it (`""` inside is a quote), every line end outside quotes is the file's own (`\n` or
// `\r\n`). Within that grammar a record is found with a loop over bytes and a field is one
// decode of its bytes, where csv-parse builds each field a byte at a time: the parse was the
// largest cost of a pool thread (docs/benchmarks.md, "Spreadsheets"). Gives what csv-parse gives
// with `csvRows`'s options (empty lines skipped, `""` an empty field, the BOM dropped).
// Only for bytes of a scanned file: on anything else its records are undefined behaviour.

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const BOM = 0xfeff;

/**
 * Each record of `bytes` (whole records of a scanned CSV, see above) to `visit`, in order.
 * `atFileStart`: the bytes begin the file (a UTF-8 BOM there is dropped). The bytes are decoded
 * once and each field is a slice of that text: decoding field by field (thousands of calls into
 * the decoder per batch) cost a pool thread more than finding the fields. Whole records end on a
 * line end, and every delimiter, quote and line end is one ASCII byte, so the text's fields are
 * the bytes' fields, decoded.
 */
export function eachSimpleRecord(bytes: Buffer, delimiter: string, atFileStart: boolean, visit: (record: string[]) => void): void {
  const text = bytes.toString('utf8');
  const delim = delimiter.charCodeAt(0);
  const end = text.length;
  let pos = atFileStart && text.charCodeAt(0) === BOM ? 1 : 0;
  while (pos < end) {
    // A record's start: an empty line is no record.
    let code = text.charCodeAt(pos);
    if (code === LF) {
      pos++;
      continue;
    }
    if (code === CR) {
      pos += 2;
      continue;
    }
    const record: string[] = [];
    for (;;) {
      // A field's start.
      if (pos < end && text.charCodeAt(pos) === QUOTE) {
        let close = text.indexOf('"', pos + 1);
        let escaped = false;
        while (text.charCodeAt(close + 1) === QUOTE) {
          escaped = true;
          close = text.indexOf('"', close + 2);
        }
        const field = text.slice(pos + 1, close);
        record.push(escaped ? field.replaceAll('""', '"') : field);
        pos = close + 1;
      } else {
        let stop = pos;
        while (stop < end && (code = text.charCodeAt(stop)) !== delim && code !== LF && code !== CR) stop++;
        record.push(stop === pos ? '' : text.slice(pos, stop));
        pos = stop;
      }
      // After a field: a delimiter, a line end or the end of the text.
      code = text.charCodeAt(pos);
      if (code === delim) {
        pos++;
        continue;
      }
      pos += code === CR ? 2 : 1;
      break;
    }
    visit(record);
  }
}
