"""Tabular files for population runs: read rows of facts, write rows of results (batch.py).

Formats by extension: `.jsonl` (one JSON object per line), `.csv` (UTF-8, a header row),
`.xlsx` (the first sheet, a header row; openpyxl) and `.parquet` (pyarrow). Readers stream:
they hold one row (JSONL, CSV, XLSX) or one record batch (Parquet) at a time, never the file.

Reading is exact: a CSV cell is text, and a number fact takes it as a decimal string
(`1234.50` stays `1234.50`); an XLSX or Parquet cell holding a binary floating-point number
(Excel keeps every numeric cell so) is read as the shortest decimal that converts back to the
same float (`repr`, e.g. `0.1`, never `0.1000000000000000055511151231257827`); integers and
Parquet decimals are read as they are. A cell of a record fact may be a JSON object, or the
record is spread over columns named by dotted paths (`rollout.sales_tools`); a list fact is a
JSON cell (`[1, 2]`). An empty cell is a missing fact.

Writing is spreadsheet-safe: in CSV and XLSX, a text cell starting with `=`, `+`, `-`, `@`, a
tab or a carriage return is prefixed with `'` (unless it is a plain decimal number), so that no
spreadsheet runs it as a formula; XLSX numbers are numeric cells only where the float Excel
keeps is exactly the value (at most 15 significant digits), else the exact decimal text.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from . import facts as fact_stage
from . import model as m
from .errors import FactError, FactViolation

FORMATS = (".jsonl", ".csv", ".xlsx", ".parquet")

_PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Characters XML 1.0 (and so XLSX) cannot hold.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_FIXED_TIME = (2000, 1, 1, 0, 0, 0)
# CSV rows end in CRLF (RFC 4180): Python's writer then quotes any cell holding a CR or LF.
CSV_EOL = "\r\n"
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


class InputProblem(Exception):
    """An input file that cannot be read as a table at all (not a row's problem)."""


def format_of(path: str) -> str | None:
    low = path.lower()
    for ext in FORMATS:
        if low.endswith(ext):
            return ext[1:]
    return None


def safe_text(s: str) -> str:
    """A text cell no spreadsheet reads as a formula."""
    if s and s[0] in _DANGEROUS and not _PLAIN_NUMBER.fullmatch(s):
        return "'" + s
    return s


def float_decimal(f: float) -> Decimal:
    """The shortest decimal that converts back to `f` (how XLSX and Parquet floats are read)."""
    return Decimal(repr(f))


def exact_in_float(text: str) -> bool:
    """True when the decimal `text` survives a spreadsheet's float: at most 15 significant digits
    (so the shortest decimal of the float, as tabular input reads it back, is the same value)."""
    d = Decimal(text)
    if not d.is_finite() or not d:
        return d.is_finite()
    if len(d.normalize().as_tuple().digits) > 15 or not -300 < d.adjusted() < 300:
        return False
    return Decimal(repr(float(d))) == d


def visible(s: str) -> str:
    """A text with no lone surrogate: a byte that was not UTF-8 as `\\xff`, a `\\ud800` escape as
    that text; so that every results format can hold it (an error row's id, say)."""
    if not _SURROGATE.search(s):
        return s
    return _SURROGATE.sub(lambda mo: (f"\\x{ord(mo.group()) - 0xDC00:02x}" if 0xDC80 <= ord(mo.group()) <= 0xDCFF
                                      else f"\\u{ord(mo.group()):04x}"), s)


def find_surrogate(v: Any) -> str | None:
    """The first lone surrogate in a decoded value (strings and keys), or None."""
    stack = [v]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            found = _SURROGATE.search(v)
            if found:
                return found.group()
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return None


def surrogate_violation(ch: str) -> FactError:
    return FactError([FactViolation(path="$", code="F002",
                                    message=f"holds the lone surrogate `\\u{ord(ch):04x}`, which is not a "
                                            "character (it cannot be written as UTF-8 text)")])


def json_value(text: str):
    """A JSON cell read exactly (numbers as Decimal, duplicate keys remembered)."""
    return json.loads(text, parse_float=fact_stage._json_number, parse_int=fact_stage._json_number,
                      parse_constant=Decimal, object_pairs_hook=fact_stage._pairs)


# ---- readers --------------------------------------------------------------------------------

class Reader:
    """Rows of one input file. `columns` is the header (None for JSONL); `rows()` yields raw
    rows (bytes of a JSONL line, or a tuple of cells); `fraction()` how far it has read."""
    columns: tuple[str, ...] | None = None
    kind = ""

    def rows(self) -> Iterator[Any]:
        raise NotImplementedError

    def fraction(self) -> float | None:
        return None

    def close(self) -> None:
        pass


class JsonlReader(Reader):
    kind = "jsonl"

    def __init__(self, path: str):
        self._fh = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._size = os.fstat(self._fh.fileno()).st_size or 1

    def rows(self):
        first = True
        for line in self._fh:
            if first:
                line = line.removeprefix(b"\xef\xbb\xbf")
                first = False
            if not line.strip():
                continue
            yield line

    def fraction(self):
        return min(1.0, self._fh.tell() / self._size)

    def close(self):
        self._fh.close()


class CsvReader(Reader):
    kind = "csv"

    def __init__(self, path: str):
        self._raw = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._size = os.fstat(self._raw.fileno()).st_size or 1
        # Bytes that are not UTF-8 become lone surrogates: that row's error, not the run's.
        self._fh = io.TextIOWrapper(self._raw, encoding="utf-8-sig", errors="surrogateescape", newline="")
        self._reader = csv.reader(self._fh)
        try:
            header = next(self._reader)
        except StopIteration:
            header = []
        except csv.Error as exc:
            raise InputProblem(f"the header row is not CSV: {exc}") from None
        self.columns = _header(header)

    def rows(self):
        reader = self._reader
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # e.g. a NUL byte: this row cannot be read
                yield ("\x00csv-error", str(exc))
                continue
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            yield tuple(row)

    def fraction(self):
        try:
            return min(1.0, self._raw.tell() / self._size)
        except (OSError, ValueError):
            return None

    def close(self):
        self._fh.close()


class XlsxReader(Reader):
    kind = "xlsx"

    def __init__(self, path: str):
        try:
            import openpyxl
        except ImportError:
            raise InputProblem("reading .xlsx needs openpyxl (pip install 'kpirules[tabular]')") from None
        try:
            self._wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise InputProblem(f"not an .xlsx workbook ({exc})") from None
        ws = self._wb.worksheets[0]
        self._rows = ws.iter_rows(values_only=True)
        try:
            header = next(self._rows)
        except StopIteration:
            header = ()
        self.columns = _header(["" if c is None else str(c) for c in header])
        self._total = max(1, (ws.max_row or 1) - 1)
        self._done = 0

    def rows(self):
        for row in self._rows:
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in row):
                continue
            self._done += 1
            yield tuple(row)

    def fraction(self):
        return min(1.0, self._done / self._total)

    def close(self):
        self._wb.close()


class ParquetReader(Reader):
    kind = "parquet"

    def __init__(self, path: str):
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise InputProblem("reading .parquet needs pyarrow (pip install 'kpirules[tabular]')") from None
        try:
            self._file = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises its own ArrowInvalid for a file that is not Parquet
            raise InputProblem(f"not a Parquet file ({exc})") from None
        self.columns = _header(self._file.schema_arrow.names)
        self._total = max(1, self._file.metadata.num_rows)
        self._done = 0

    def rows(self):
        for batch in self._file.iter_batches(batch_size=4096):
            columns = [col.to_pylist() for col in batch.columns]
            for row in zip(*columns, strict=True):
                self._done += 1
                yield row

    def fraction(self):
        return min(1.0, self._done / self._total)


def _header(names) -> tuple[str, ...]:
    names = [n.strip() for n in names]
    seen: set[str] = set()
    for name in names:
        if name in seen and name:
            raise InputProblem(f"the header names the column `{name}` twice")
        seen.add(name)
    return tuple(names)


def open_reader(path: str) -> Reader:
    kind = format_of(path)
    if kind == "jsonl":
        return JsonlReader(path)
    if kind == "csv":
        return CsvReader(path)
    if kind == "xlsx":
        return XlsxReader(path)
    if kind == "parquet":
        return ParquetReader(path)
    raise InputProblem("the input must be a .jsonl, .csv, .xlsx or .parquet file")


# ---- a row of cells -> facts ----------------------------------------------------------------

_TEXT_KINDS = frozenset(("number", "text", "enum", "date", "period"))
_BOOLEANS = {"true": True, "false": False}


class RowDecoder:
    """Turns a raw row into a fact set, by the declared types of the evaluation's facts."""

    def __init__(self, columns: tuple[str, ...] | None, types: dict[str, m.Type], keep_undeclared: bool = True):
        self.columns = columns
        self.types = types
        # (column index, fact, record key or None, declared type, a text cell is the value as is)
        self.plan: list[tuple[int, str, str | None, m.Type | None, bool]] = []
        self.all_text = False  # every cell is a str (CSV): the surrogate check is one search
        self._index = {name: i for i, name in enumerate(columns or ())}
        if columns is not None:
            for i, name in enumerate(columns):
                if not name:
                    continue
                head, dot, rest = name.partition(".")
                if not keep_undeclared and name not in types and head not in types:
                    continue  # an undeclared column (the id, a note): ignored, so not even read
                if name in types or not dot:
                    t = types.get(name)
                    self.plan.append((i, name, None, t, t is not None and t.kind in _TEXT_KINDS))
                else:
                    t = types.get(head)
                    element = t.element if t is not None and t.kind == "record" else None
                    self.plan.append((i, head, rest, element, element is not None and element.kind in _TEXT_KINDS))

    def raw_cell(self, raw, name: str):
        """The cell of column `name` of a table row as read (None when absent): the id of a row
        whose facts cannot be read."""
        if self.columns is None or not isinstance(raw, tuple) or (raw and raw[0] == "\x00csv-error"):
            return None
        i = self._index.get(name)
        if i is None:
            return None
        cell = raw[i] if i < len(raw) else None
        if isinstance(cell, float):
            return float_decimal(cell)
        return None if cell == "" else cell

    def decode(self, raw) -> dict:
        """The fact set of one raw row; FactError when the row cannot even be read."""
        if self.columns is None:
            return _jsonl_facts(raw)
        if len(raw) == 2 and raw[0] == "\x00csv-error":
            raise FactError([FactViolation(path="$", code="F001", message=f"this row is not CSV: {raw[1]}")])
        # Plain dicts: a header names each column once, so no key can come twice (a JSON cell
        # remembers its own duplicate keys).
        facts: dict = {}
        errors: list[FactViolation] | None = None
        n = len(raw)
        for i, name, key, t, simple in self.plan:
            cell = raw[i] if i < n else None
            if cell is None or cell == "":
                continue
            value: Any
            if simple and type(cell) is str:
                value = cell  # a number fact reads the text as a decimal string, exactly
            elif t is not None and t.kind == "boolean" and type(cell) is str and cell.lower() in _BOOLEANS:
                value = _BOOLEANS[cell.lower()]
            else:
                try:
                    value = _cell(cell, t)
                except FactError as exc:
                    errors = errors or []
                    errors.extend(FactViolation(path=name if key is None else f"{name}.{key}", code=v.code,
                                                message=v.message) for v in exc.violations)
                    continue
            if key is None:
                facts[name] = value
            else:
                record = facts.get(name)
                if not isinstance(record, dict):
                    record = {}
                    facts[name] = record
                record[key] = value
        if errors:
            raise FactError(errors)
        # Bytes that are not UTF-8 (read as lone surrogates) or a `\ud800` escape of a JSON cell.
        found = _SURROGATE.search("".join(raw)) is not None if self.all_text else find_surrogate(facts) is not None
        if found:
            raise FactError([FactViolation(path="$", code="F002",
                                           message="this row is not UTF-8 text (or holds a lone surrogate)")])
        return facts


def _jsonl_facts(raw: bytes) -> dict:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FactError([FactViolation(path="$", code="F002",
                                       message=f"this line is not UTF-8 text (byte {exc.start + 1} "
                                               f"is 0x{raw[exc.start]:02x})")]) from None
    facts = fact_stage.read_json(text.rstrip("\r\n"))
    if "\\u" in text or "\\U" in text:
        bad = find_surrogate(facts)
        if bad is not None:
            raise surrogate_violation(bad)
    return facts


def _cell(cell, t: m.Type | None):
    """One cell as the value of a fact of type `t` (None: undeclared, kept as read)."""
    kind = t.kind if t is not None else None
    if isinstance(cell, str):
        if kind in ("list", "record") or (kind is None and cell[:1] in ("[", "{")):
            if cell == "[]":
                return []
            try:
                value = json_value(cell)
                if "\\u" in cell and find_surrogate(value) is not None:
                    raise FactError([FactViolation(path="$", code="F002",
                                                   message="holds a lone surrogate, which is not a character")])
                return value
            except json.JSONDecodeError as exc:
                if kind is None:
                    return cell
                raise FactError([FactViolation(path="$", code="F001",
                                               message=f"a {kind} is written as JSON in one cell; this cell is "
                                                       f"not valid JSON ({exc.msg.lower()} at column "
                                                       f"{exc.colno})")]) from None
            except RecursionError:
                raise FactError([FactViolation(path="$", code="F001", message="JSON nests too deeply")]) from None
        if kind == "boolean":
            low = cell.lower()
            if low == "true":
                return True
            if low == "false":
                return False
        return cell
    if isinstance(cell, bool):
        return cell
    if isinstance(cell, float):
        if cell != cell or cell in (float("inf"), float("-inf")):
            return Decimal(repr(cell).replace("inf", "Infinity"))
        d = float_decimal(cell)
        return _as_text(d) if kind in ("text", "enum", "date", "period") else d
    if isinstance(cell, (int, Decimal)):
        d = Decimal(cell)
        return _as_text(d) if kind in ("text", "enum", "date", "period") else d
    if hasattr(cell, "isoformat"):  # a date or a datetime cell
        import datetime as _dt
        if isinstance(cell, _dt.datetime):
            if kind == "date" and cell.time() == _dt.time():
                return cell.date()
            return cell
        return cell
    if isinstance(cell, list):
        return [_cell(c, t.element if t is not None and t.kind == "list" else None) for c in cell]
    if isinstance(cell, dict):
        out = fact_stage.Pairs()
        out.duplicates = {}
        for k, v in cell.items():
            out[k] = _cell(v, t.element if t is not None and t.kind == "record" else None)
        return out
    return cell


def _as_text(d: Decimal) -> str:
    return format(d, "f") if -40 < d.adjusted() < 40 else str(d)


# ---- writers --------------------------------------------------------------------------------
# A result row is a dict of JSON values (the JSONL form, as batch.py makes it); `kinds` gives
# each column's kind: "int" (row), "number" (decimal strings), "bool", "text", "json".

def csv_line(cells: list) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=CSV_EOL).writerow(cells)
    return buf.getvalue()


def csv_cells(row: dict, columns: list[str], kinds: dict[str, str]) -> list:
    cells = []
    for c in columns:
        v = row.get(c)
        if v is None:
            cells.append("")
        elif isinstance(v, bool):
            cells.append("true" if v else "false")
        elif isinstance(v, int):
            cells.append(str(v))
        elif isinstance(v, str):
            cells.append(v if kinds.get(c) == "number" and _PLAIN_NUMBER.fullmatch(v) else safe_text(v))
        else:
            cells.append(safe_text(json.dumps(v, ensure_ascii=False)))
    return cells


def _xlsx_cell(ws, v, kind: str):
    if v is None or isinstance(v, (bool, int)):
        return v
    if isinstance(v, str):
        if kind == "number" and _PLAIN_NUMBER.fullmatch(v):
            if exact_in_float(v):
                from openpyxl.cell import WriteOnlyCell
                d = Decimal(v)
                exponent = d.as_tuple().exponent
                places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
                cell = WriteOnlyCell(ws, value=int(d) if places == 0 else float(d))
                if places:  # the digits as computed stay on screen: 7488.00, not 7488
                    cell.number_format = "0." + "0" * places
                return cell
            return v
        return _ILLEGAL_XML.sub(lambda mo: f"\\x{ord(mo.group()):02x}", safe_text(v))
    return _ILLEGAL_XML.sub(lambda mo: f"\\x{ord(mo.group()):02x}", safe_text(json.dumps(v, ensure_ascii=False)))


def write_xlsx(spool: str, target: str, columns: list[str], kinds: dict[str, str]) -> None:
    """The JSONL rows of `spool` as a one-sheet workbook at `target` (byte-identical for the same rows)."""
    from datetime import datetime

    import openpyxl
    wb = openpyxl.Workbook(write_only=True)
    fixed = datetime(*_FIXED_TIME)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.properties.creator = "kpirules"
    ws = wb.create_sheet("results")
    ws.append(columns)
    with open(spool, encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            ws.append([_xlsx_cell(ws, row.get(c), kinds.get(c, "text")) for c in columns])
    loose = target + ".zip"
    wb.save(loose)
    _fix_zip_times(loose, target)
    os.unlink(loose)


def _fix_zip_times(source: str, target: str) -> None:
    """Copy a zip with every entry's time set to one fixed moment (reproducible output)."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            if info.filename == "docProps/core.xml":  # openpyxl stamps the time of saving
                dst.writestr(fixed, _MODIFIED.sub(rb"\g<1>2000-01-01T00:00:00Z\g<2>", src.read(info)))
                continue
            with src.open(info) as r, dst.open(fixed, "w") as w:
                while True:
                    chunk = r.read(1 << 20)
                    if not chunk:
                        break
                    w.write(chunk)


def write_parquet(spool: str, target: str, columns: list[str], kinds: dict[str, str],
                  batch_rows: int = 50_000) -> None:
    """The JSONL rows of `spool` as Parquet: `row` int64, booleans bool, everything else text
    (numbers as exact decimal strings; lists and records as JSON text)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    types = {"int": pa.int64(), "bool": pa.bool_()}
    schema = pa.schema([(c, types.get(kinds.get(c, "text"), pa.string())) for c in columns])

    def flush(buffer, writer):
        arrays = [pa.array(buffer[i], type=schema.field(i).type) for i in range(len(columns))]
        writer.write_table(pa.Table.from_arrays(arrays, schema=schema))

    with pq.ParquetWriter(target, schema) as writer:
        buffer: list[list] = [[] for _ in columns]
        count = 0
        with open(spool, encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                for i, c in enumerate(columns):
                    v = row.get(c)
                    if v is not None and not isinstance(v, (str, bool, int)):
                        v = json.dumps(v, ensure_ascii=False)
                    elif isinstance(v, int) and not isinstance(v, bool) and kinds.get(c) != "int":
                        v = str(v)
                    buffer[i].append(v)
                count += 1
                if count == batch_rows:
                    flush(buffer, writer)
                    buffer = [[] for _ in columns]
                    count = 0
        if count:
            flush(buffer, writer)
