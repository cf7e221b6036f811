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

/**
 * Each record of `bytes` (whole records of a scanned CSV, see above) to `visit`, in order.
 * `atFileStart`: the bytes begin the file (a UTF-8 BOM there is dropped).
 */
export function eachSimpleRecord(bytes: Buffer, delimiter: string, atFileStart: boolean, visit: (record: string[]) => void): void {
  const delim = delimiter.charCodeAt(0);
  const end = bytes.length;
  let pos = atFileStart && end >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (pos < end) {
    // A record's start: an empty line is no record.
    let byte = bytes[pos];
    if (byte === LF) {
      pos++;
      continue;
    }
    if (byte === CR) {
      pos += 2;
      continue;
    }
    const record: string[] = [];
    for (;;) {
      // A field's start.
      if (pos < end && bytes[pos] === QUOTE) {
        let close = bytes.indexOf(QUOTE, pos + 1);
        let escaped = false;
        while (bytes[close + 1] === QUOTE) {
          escaped = true;
          close = bytes.indexOf(QUOTE, close + 2);
        }
        const text = bytes.toString('utf8', pos + 1, close);
        record.push(escaped ? text.replaceAll('""', '"') : text);
        pos = close + 1;
      } else {
        let stop = pos;
        while (stop < end && (byte = bytes[stop]) !== delim && byte !== LF && byte !== CR) stop++;
        record.push(stop === pos ? '' : bytes.toString('utf8', pos, stop));
        pos = stop;
      }
      // After a field: a delimiter, a line end or the end of the bytes.
      byte = bytes[pos];
      if (byte === delim) {
        pos++;
        continue;
      }
      pos += byte === CR ? 2 : 1;
      break;
    }
    visit(record);
  }
}
