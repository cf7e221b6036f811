// The directory of an OLE2 compound file read as its bytes stream by, once: no copy of the file
// is written anywhere. Only the sectors that can matter are kept (the FAT's, and those shaped
// like directory sectors), within fixed bounds, so that a refused upload of a gigabyte costs
// tens of megabytes of memory at most and no disk.

/** Sector ids from here up are markers (end of chain, free, FAT, DIFAT), not sectors. */
const MAX_SECTOR_ID = 0xfffffffa;
/** Directory sectors kept and followed at most (as for a file on disk: ole-container.ts). */
const MAX_DIRECTORY_SECTORS = 1024;
/** DIFAT sectors followed at most (each lists the FAT sectors past the header's 109). */
const MAX_DIFAT_SECTORS = 1024;
/** Bytes of FAT kept at most: the FAT of a 2 GiB file of 512-byte sectors. */
const MAX_FAT_BYTES = 16 * 1024 * 1024;
const HEADER_BYTES = 512;
const HEADER_FAT_IDS = 109;
/** Bytes of sectors kept at most that may be FAT sectors a DIFAT sector still to come lists. */
const MAX_FAT_CANDIDATE_BYTES = 8 * 1024 * 1024;
/** Directory entry types: unused, storage, stream, root. */
const ENTRY_TYPES = new Set([0, 1, 2, 5]);

/** A directory entry's name (UTF-16LE, its byte length with its NUL at 0x40), or undefined for an unused or malformed one. */
function entryName(sector: Buffer, at: number): string | undefined {
  const length = sector.readUInt16LE(at + 0x40);
  if (sector[at + 0x42] === 0 || length < 2 || length > 64) return undefined;
  return sector.toString('utf16le', at, at + length - 2);
}

/** Whether `sector` reads as directory entries, one of them at least in use. */
function directoryShaped(sector: Buffer): boolean {
  let used = 0;
  for (let at = 0; at + 128 <= sector.length; at += 128) {
    const type = sector[at + 0x42]!;
    if (!ENTRY_TYPES.has(type)) return false;
    if (type === 0) continue;
    const length = sector.readUInt16LE(at + 0x40);
    if (length < 2 || length > 64 || length % 2 !== 0 || sector.readUInt16LE(at + length - 2) !== 0) return false;
    used++;
  }
  return used > 0;
}

/**
 * Whether `sector` reads as a FAT sector listed by a DIFAT sector (past the first 109): each entry
 * a marker or a sector id a kept FAT can cover, other than 0 (the first sector is no chain's next,
 * and zeros, common in a file, are then refused at their first entry), one at least pointing to
 * the sector after its own (a chain's next, as most are).
 */
function fatShaped(sector: Buffer): boolean {
  const perSector = sector.length / 4;
  const maxId = MAX_FAT_BYTES / 4;
  let chained = false;
  for (let j = 0; j < perSector; j++) {
    const value = sector.readUInt32LE(j * 4);
    if (value >= MAX_SECTOR_ID) continue;
    if (value >= maxId || value === 0) return false;
    if (value > j && (value - j - 1) % perSector === 0) chained = true;
  }
  return chained;
}

/**
 * Feeds on a compound file's bytes in order ({@link push}) and then names its directory's entries
 * ({@link names}), following the directory's chain through the FAT as a reader of the whole file
 * would. A sector shaped like a FAT sector is kept too (within bounds) until the DIFAT says
 * whether it is one: a DIFAT sector may come after the FAT sectors it lists. Where the chain
 * still cannot be followed (a sector it needs came before it was known to be needed), the
 * entries of every directory-shaped sector kept are named instead.
 */
export class OleDirectoryScan {
  readonly #header = Buffer.alloc(HEADER_BYTES);
  #offset = 0;
  #size = 0;
  /** The sector being filled, its id and how much of it has come. */
  #sector = Buffer.alloc(0);
  #id = -1;
  #filled = 0;
  /** FAT sector ids in order (the header's, then the DIFAT's), and the kept sectors by id. */
  readonly #fatIds: number[] = [];
  readonly #fatIdSet = new Set<number>();
  readonly #fat = new Map<number, Buffer>();
  #fatBytes = 0;
  /** Sectors shaped like FAT sectors but not (yet) listed as such, by id. */
  readonly #fatCandidates = new Map<number, Buffer>();
  #fatCandidateBytes = 0;
  #difatNext = MAX_SECTOR_ID;
  #difatRead = 0;
  readonly #directory = new Map<number, Buffer>();
  /** The id of the first sector past the directory sectors kept at most (none: not reached). */
  #directoryFullAt = Infinity;
  #broken = false;

  push(chunk: Uint8Array): void {
    if (this.#broken) return;
    let at = 0;
    if (this.#offset < HEADER_BYTES) {
      const take = Math.min(HEADER_BYTES - this.#offset, chunk.length);
      this.#header.set(chunk.subarray(0, take), this.#offset);
      this.#offset += take;
      at = take;
      if (this.#offset === HEADER_BYTES) this.#readHeader();
      if (this.#broken) return;
    }
    while (at < chunk.length) {
      if (this.#offset < this.#size) { // the rest of a 4096-byte header sector
        const skip = Math.min(this.#size - this.#offset, chunk.length - at);
        this.#offset += skip;
        at += skip;
        continue;
      }
      const take = Math.min(this.#size - this.#filled, chunk.length - at);
      this.#sector.set(chunk.subarray(at, at + take), this.#filled);
      this.#filled += take;
      this.#offset += take;
      at += take;
      if (this.#filled === this.#size) {
        this.#id++;
        this.#filled = 0;
        this.#take(this.#sector);
      }
    }
  }

  #readHeader(): void {
    const size = 2 ** this.#header.readUInt16LE(0x1e); // 512 (version 3) or 4096 (version 4)
    if (size !== 512 && size !== 4096) {
      this.#broken = true;
      return;
    }
    this.#size = size;
    this.#sector = Buffer.alloc(size);
    for (let i = 0; i < HEADER_FAT_IDS; i++) this.#addFatId(this.#header.readUInt32LE(0x4c + i * 4));
    this.#difatNext = this.#header.readUInt32LE(0x44);
  }

  #addFatId(id: number): void {
    // Past the FAT sectors that fit in MAX_FAT_BYTES none would be kept: their ids are not
    // either (1,024 DIFAT sectors list a million, 32 MB of ids for a 4 MB upload).
    if (this.#fatIds.length >= MAX_FAT_BYTES / this.#size) return;
    this.#fatIds.push(id);
    if (id < MAX_SECTOR_ID) this.#fatIdSet.add(id);
  }

  /** Keeps a sector that may be needed: a copy, since `sector` is filled again with the next. */
  #take(sector: Buffer): void {
    const id = this.#id;
    if (id === this.#difatNext && this.#difatRead < MAX_DIFAT_SECTORS) {
      this.#difatRead++;
      for (let i = 0; i < this.#size / 4 - 1; i++) this.#addFatId(sector.readUInt32LE(i * 4));
      this.#difatNext = sector.readUInt32LE(this.#size - 4);
    }
    if (this.#fatIdSet.has(id) && this.#fatBytes + this.#size <= MAX_FAT_BYTES) {
      this.#fat.set(id, Buffer.from(sector));
      this.#fatBytes += this.#size;
    } else if (this.#fatCandidateBytes + this.#size <= MAX_FAT_CANDIDATE_BYTES && fatShaped(sector)) {
      this.#fatCandidates.set(id, Buffer.from(sector));
      this.#fatCandidateBytes += this.#size;
    }
    if (!directoryShaped(sector)) return;
    if (this.#directory.size < MAX_DIRECTORY_SECTORS) this.#directory.set(id, Buffer.from(sector));
    else this.#directoryFullAt = Math.min(this.#directoryFullAt, id);
  }

  /** The sector after `id` in its chain, or a marker when the FAT says so or is not at hand (undefined). */
  #next(id: number): number | undefined {
    const perSector = this.#size / 4;
    const index = Math.floor(id / perSector);
    if (index >= MAX_FAT_BYTES / this.#size) return undefined; // its FAT sector's id was not kept
    const fatId = this.#fatIds[index];
    if (fatId === undefined || fatId >= MAX_SECTOR_ID) return MAX_SECTOR_ID;
    const entries = this.#fat.get(fatId) ?? this.#fatCandidates.get(fatId);
    return entries === undefined ? undefined : entries.readUInt32LE((id % perSector) * 4);
  }

  /** The names of the directory's entries; empty when the bytes were no compound file. */
  names(): string[] {
    if (this.#broken || this.#size === 0) return [];
    const chained: string[] = [];
    let id = this.#header.readUInt32LE(0x30);
    for (let n = 0; id < MAX_SECTOR_ID && n < MAX_DIRECTORY_SECTORS; n++) {
      // A sector that came and was not kept, though there was room, is not directory-shaped: its
      // entries all unused (removed), most often. It names nothing and the chain goes on, rather
      // than every directory-shaped sector (those of files held in this one too) being named.
      const sector = this.#directory.get(id) ?? (id <= this.#id && id < this.#directoryFullAt ? Buffer.alloc(0) : undefined);
      const next = this.#next(id);
      if (sector === undefined || next === undefined) return this.#allNames();
      for (let at = 0; at + 128 <= sector.length; at += 128) {
        const name = entryName(sector, at);
        if (name !== undefined) chained.push(name);
      }
      id = next;
    }
    return chained;
  }

  #allNames(): string[] {
    const names: string[] = [];
    for (const sector of this.#directory.values()) {
      for (let at = 0; at + 128 <= sector.length; at += 128) {
        const name = entryName(sector, at);
        if (name !== undefined) names.push(name);
      }
    }
    return names;
  }
}
