/**
 * A small RFC 4180 CSV reader for voter-roll imports: fields separated by commas,
 * records by CRLF (LF and a lone CR are accepted too: spreadsheets on every system
 * write them), fields optionally in double quotes, a quote inside a quoted field
 * written twice, quoted fields may hold commas and line breaks. A UTF-8 byte order
 * mark at the start (Excel writes one) is dropped. No dependency: the format is small,
 * and an import must report the file's own line numbers, which needs the reader's
 * position anyway.
 */

/** One record with the physical line (1-based) it starts on: what an error names. */
export interface CsvRecord {
  line: number;
  fields: string[];
}

/** A file that is not CSV at `line` (1-based): an unbalanced or misplaced quote. */
export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
    this.name = 'CsvSyntaxError';
  }
}

/**
 * Parses `text` into records. Empty lines are skipped (a trailing line break makes no
 * record), so a record's `line` is always the line of the file it starts on.
 */
export function parseCsv(text: string): CsvRecord[] {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let i = 0;
  /** True while the current record has no character at all (an empty line). */
  let empty = true;
  const endRecord = () => {
    fields.push(field);
    if (!empty) records.push({ line: recordLine, fields });
    fields = [];
    field = '';
    empty = true;
  };
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    if (c === '"') {
      if (field !== '') {
        throw new CsvSyntaxError(
          line,
          `Line ${line}: a quote inside an unquoted field (quote the whole field and write "" for a quote)`,
        );
      }
      empty = false;
      const startLine = line;
      i++;
      for (;;) {
        if (i >= n) throw new CsvSyntaxError(startLine, `Line ${startLine}: a quoted field is never closed`);
        const q = src[i]!;
        if (q === '"') {
          if (src[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (q === '\r' || q === '\n') {
          if (q === '\r' && src[i + 1] === '\n') {
            field += '\r\n';
            i += 2;
          } else {
            field += q;
            i++;
          }
          line++;
          continue;
        }
        field += q;
        i++;
      }
      const after = src[i];
      if (after !== undefined && after !== ',' && after !== '\r' && after !== '\n') {
        throw new CsvSyntaxError(
          line,
          `Line ${line}: characters after a closing quote (write "" for a quote inside a quoted field)`,
        );
      }
      continue;
    }
    if (c === ',') {
      empty = false;
      fields.push(field);
      field = '';
      i++;
      continue;
    }
    if (c === '\r' || c === '\n') {
      endRecord();
      i += c === '\r' && src[i + 1] === '\n' ? 2 : 1;
      line++;
      recordLine = line;
      continue;
    }
    empty = false;
    field += c;
    i++;
  }
  if (!empty || field !== '') endRecord();
  return records;
}
