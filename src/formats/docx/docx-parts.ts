// The parts of a Word document that mammoth reads, found as mammoth finds them (its
// docx-reader.js): the main document named by the package's relationships (else
// word/document.xml), the styles, numbering, footnotes, endnotes and comments named by the main
// document's relationships (else their usual names), the relationships of the parts with a body,
// [Content_Types].xml and mammoth's own embedded style map. Only these are inflated: a file whose
// other entries inflate to hundreds of MB, or that holds tens of thousands of them, costs what its
// text costs. Images are not among them: the text drops them (html-text.ts), so mammoth is not
// asked to read them. Every part ream reads from a Word archive comes through readWordPart,
// which refuses one that declares a DTD and says in words why a part cannot be inflated.
import { Parser } from 'htmlparser2';
import type { CentralDirectoryFile } from 'unzipper';
import { ReamError } from '../../errors.ts';
import { readEntry } from '../zip/zip-container.ts';

/** ECMA-376 Part 1, 15.2: the relationship types by which mammoth finds each part. */
const RELATIONSHIP = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/';
const RELATED_PARTS = ['styles', 'numbering', 'footnotes', 'endnotes', 'comments'] as const;
/** A document type declaration, where XML entities are declared. */
const DTD = /<!DOCTYPE/i;
/** Parts read with their own relationships (they hold a body, which may link or note). */
const WITH_BODY = new Set<string>(['footnotes', 'endnotes', 'comments']);

export interface WordParts {
  /** The main document part's name, usually `word/document.xml`. */
  main: string;
  /** Each part mammoth reads that the archive holds, inflated. */
  parts: Map<string, Buffer>;
}

/** Reads the parts mammoth needs from the archive's `files` (each at most its declared size). */
export async function wordParts(files: readonly CentralDirectoryFile[]): Promise<WordParts> {
  const byName = new Map(files.map((file) => [file.path, file]));
  const parts = new Map<string, Buffer>();
  const read = async (name: string): Promise<Buffer | undefined> => {
    const file = byName.get(name);
    if (!file || parts.has(name)) return parts.get(name);
    const bytes = await readWordPart(file);
    parts.set(name, bytes);
    return bytes;
  };
  /** The first target of `type` in the relationships part `rels` that the archive holds, resolved against `base`. */
  const target = async (rels: string, type: string, base: string): Promise<string | undefined> => {
    const xml = await read(rels);
    return xml && relationshipTargets(xml.toString('utf8'), type).map((t) => resolve(base, t)).find((name) => byName.has(name));
  };

  await read('[Content_Types].xml');
  await read('mammoth/style-map');
  const main = (await target('_rels/.rels', `${RELATIONSHIP}officeDocument`, '')) ?? 'word/document.xml';
  await read(main);
  const mainRels = relationshipsOf(main);
  for (const name of RELATED_PARTS) {
    const part = (await target(mainRels, `${RELATIONSHIP}${name}`, dirname(main))) ?? `word/${name}.xml`;
    await read(part);
    if (WITH_BODY.has(name)) await read(relationshipsOf(part));
  }
  return { main, parts };
}

/**
 * One part of a Word archive, inflated (at most its declared size), refused as `invalid_docx`
 * when it declares a DTD or cannot be inflated (an encrypted entry), in words rather than
 * unzipper's codes.
 */
export async function readWordPart(file: CentralDirectoryFile): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readEntry(file);
  } catch (error) {
    if (error instanceof ReamError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    const why = /PASSWORD/.test(message) ? 'it is encrypted (a password-protected ZIP)' : message;
    throw ReamError.nonRetryable('invalid_docx', `the Word document's part ${file.path} cannot be read: ${why}`, { cause: error, details: { part: file.path } });
  }
  // ECMA-376 Part 2, M1.18: "DTD declarations shall not be used … Package implementers shall
  // treat the presence of DTD declarations as an error." They declare the entities of XXE and
  // billion-laughs files, and mammoth's parser would fail on them in its own raw words.
  if (DTD.test(bytes.toString('latin1'))) {
    throw ReamError.nonRetryable('invalid_docx', `the Word document declares XML entities (a <!DOCTYPE> in ${file.path}), which ream does not read: Office documents never hold one`, {
      details: { part: file.path },
    });
  }
  return bytes;
}

/** The `Target`s of the relationships of `type` in a relationships part, in order. */
function relationshipTargets(xml: string, type: string): string[] {
  const targets: string[] = [];
  const parser = new Parser({
    onopentag(name, attribs) {
      if ((name === 'Relationship' || name.endsWith(':Relationship')) && attribs.Type === type && attribs.Target) targets.push(attribs.Target);
    },
  }, { xmlMode: true });
  parser.end(xml);
  return targets;
}

/** A target as mammoth resolves it: an absolute one from the package's root, a relative one from `base`. */
function resolve(base: string, target: string): string {
  const joined = target.startsWith('/') || base === '' ? target : `${base}/${target}`;
  return joined.replace(/^\//, '');
}

function dirname(name: string): string {
  const slash = name.lastIndexOf('/');
  return slash === -1 ? '' : name.slice(0, slash);
}

/** OPC's name for a part's relationships: `word/document.xml` → `word/_rels/document.xml.rels`. */
function relationshipsOf(name: string): string {
  const dir = dirname(name);
  return `${dir ? `${dir}/` : ''}_rels/${name.slice(name.lastIndexOf('/') + 1)}.rels`;
}
