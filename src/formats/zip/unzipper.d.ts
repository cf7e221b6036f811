// unzipper (a dependency of exceljs) ships no types: the part of its API ream uses (the XLSX
// reader, zip-container.ts).
declare module 'unzipper' {
  import type { Readable } from 'node:stream';

  interface CentralDirectoryFile {
    /** The entry's name in the archive, e.g. `xl/workbook.xml`. */
    path: string;
    type: 'File' | 'Directory';
    /** As the central directory declares it; checked before inflating (zip-container.ts). */
    uncompressedSize: number;
    compressedSize: number;
    /** The entry's bytes, decompressed as they are read. */
    stream(password?: string): Readable;
  }

  interface CentralDirectory {
    files: CentralDirectoryFile[];
  }

  export const Open: {
    /** Reads the ZIP's central directory (at its end); the entries are then read where they lie. */
    file(path: string): Promise<CentralDirectory>;
  };
}
