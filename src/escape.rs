//! Neutralised strings: names and descriptions that come from users' files (scenario,
//! group, gauge and structure names, batch descriptions) written into CSV, Markdown and
//! shell text so that they stay text.
//!
//! - **CSV** ([`csv_cell`], [`WriteCells`]): a text cell beginning with `=`, `+`, `-`,
//!   `@`, a tab or a carriage return is what a spreadsheet reads as a formula (CSV or
//!   formula injection); it is written with a single quote in front, as the OWASP guidance
//!   recommends. Numbers are left alone, so a negative number stays a number. The
//!   project's own readers strip that guard again ([`csv_unguard`], [`unguard_record`]),
//!   so the names round-trip. A text cell that already begins with quotes followed by
//!   one of those characters gets one more quote, so that the round trip is exact.
//! - **Markdown** ([`md_text`], [`md_code`]): raw HTML (`<`, `>`, `&`) becomes entities,
//!   Markdown's inline control characters are backslash-escaped, a leading block marker
//!   (`#`, `-`, `+`, `=`, `1.`) is escaped, and line breaks become spaces, so a name can
//!   neither start a heading or a table row nor carry a `<script>`.
//! - **Shell** ([`shell_word`]): one word quoted by `shlex` (POSIX single quotes), never
//!   interpolated into double quotes, so `$(…)` and backquotes in a path do not run.
//!
//! # Reference
//! OWASP, "CSV Injection", <https://owasp.org/www-community/attacks/CSV_Injection>;
//! CommonMark 0.31, sections 2.4 (backslash escapes) and 6.6 (raw HTML).

use std::borrow::Cow;

/// Characters that make a spreadsheet cell a formula when they come first.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether `s` is a number as Rust writes one (`-3.5`, `1e-3`, `-inf`): left alone, so a
/// negative number stays a number. No formula parses as one.
fn is_number(s: &str) -> bool {
    s.parse::<f64>().is_ok()
}

/// Whether the text after any leading single quotes starts like a formula.
fn formula_like(s: &str) -> bool {
    s.trim_start_matches('\'').starts_with(FORMULA_START)
}

/// A CSV cell as written: text starting with `=`, `+`, `-`, `@`, tab or CR (after any
/// leading single quotes) gets a single quote in front; numbers and other text are
/// unchanged. The inverse is [`csv_unguard`].
pub fn csv_cell(s: &str) -> Cow<'_, str> {
    if formula_like(s) && !is_number(s) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// A CSV cell as read back: the guard quote of [`csv_cell`] removed.
pub fn csv_unguard(s: &str) -> Cow<'_, str> {
    match s.strip_prefix('\'') {
        Some(rest) if formula_like(rest) => Cow::Borrowed(rest),
        _ => Cow::Borrowed(s),
    }
}

/// A record read from one of the project's CSV files with every cell's guard removed.
pub fn unguard_record(record: &csv::StringRecord) -> csv::StringRecord {
    record.iter().map(csv_unguard).collect()
}

/// Writing CSV records whose cells go through [`csv_cell`].
pub trait WriteCells {
    /// Writes one record, each cell neutralised by [`csv_cell`].
    fn write_cells<I, T>(&mut self, record: I) -> csv::Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>;
}

impl<W: std::io::Write> WriteCells for csv::Writer<W> {
    fn write_cells<I, T>(&mut self, record: I) -> csv::Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        self.write_record(
            record
                .into_iter()
                .map(|f| csv_cell(f.as_ref()).into_owned()),
        )
    }
}

/// Writes serde records as CSV the way `csv::Writer::serialize` does (a header row of
/// the field names first), with every cell neutralised by [`csv_cell`].
pub fn write_serialized<W, T, I>(w: &mut csv::Writer<W>, records: I) -> csv::Result<()>
where
    W: std::io::Write,
    T: serde::Serialize,
    I: IntoIterator<Item = T>,
{
    let mut buf = csv::Writer::from_writer(Vec::new());
    for r in records {
        buf.serialize(r)?;
    }
    let bytes = buf
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    let mut rd = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes.as_slice());
    for rec in rd.records() {
        w.write_cells(&rec?)?;
    }
    Ok(())
}

/// One CSV line of cells (RFC 4180 quoting where a cell holds a comma, a quote or a
/// line break), each neutralised by [`csv_cell`]; without the line end.
pub fn csv_line<I, T>(cells: I) -> String
where
    I: IntoIterator<Item = T>,
    T: AsRef<str>,
{
    cells
        .into_iter()
        .map(|c| {
            let c = csv_cell(c.as_ref());
            if c.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c.into_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Text for a Markdown paragraph, list item or table cell: `&`, `<`, `>` as entities;
/// `\`, `` ` ``, `*`, `_`, `[`, `]`, `|`, `~` and `!` backslash-escaped; a leading `#`,
/// `-`, `+`, `=` or ordered-list number escaped; line breaks and tabs as spaces.
pub fn md_text(s: &str) -> String {
    let flat: String = s
        .chars()
        .map(|c| {
            if matches!(c, '\n' | '\r' | '\t') {
                ' '
            } else {
                c
            }
        })
        .collect();
    let mut out = String::with_capacity(flat.len() + 8);
    for c in flat.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    // Block markers count only at the start of a line; the text may begin one.
    let lead = out.len() - out.trim_start().len();
    let body = &out[lead..];
    if body.starts_with(['#', '-', '+', '=']) {
        out.insert(lead, '\\');
    } else {
        let digits = body.len() - body.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 && body[digits..].starts_with(['.', ')']) {
            out.insert(lead + digits, '\\');
        }
    }
    out
}

/// A Markdown code span of `s` (a path, a file name): fenced with more backquotes than
/// it holds, line breaks as spaces, `|` escaped for tables. HTML inside a code span is
/// shown, not rendered.
pub fn md_code(s: &str) -> String {
    let flat: String = s
        .chars()
        .map(|c| if matches!(c, '\n' | '\r') { ' ' } else { c })
        .collect::<String>()
        .replace('|', "\\|");
    let mut longest = 0;
    let mut run = 0;
    for c in flat.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if flat.starts_with('`') || flat.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{flat}{pad}{fence}")
}

/// One shell word (POSIX quoting by `shlex`): safe to paste into a `sh`/`bash` command
/// line, and again (quoted once more) into a command string such as `sbatch --wrap`.
/// A NUL byte, which no shell word can hold, is an error.
pub fn shell_word(s: &str) -> crate::Result<String> {
    shlex::try_quote(s)
        .map(Cow::into_owned)
        .map_err(|e| crate::Error::Data(format!("{s:?} cannot be quoted for the shell: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_guarded_and_round_trip() {
        for s in [
            "=1+2",
            "+cmd",
            "-2+3+cmd|' /C calc'!A0",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "'=already",
            "''-x",
        ] {
            let w = csv_cell(s);
            assert!(w.starts_with('\''), "{s:?} -> {w:?}");
            assert_eq!(csv_unguard(&w), s);
        }
        for s in [
            "-3.5",
            "+2",
            "1e-3",
            "-0",
            "",
            "东城区",
            "a=b",
            "'quoted",
            "x-1",
        ] {
            assert_eq!(csv_cell(s), s);
            assert_eq!(csv_unguard(s), s);
        }
        assert_eq!(
            csv_line(["=HYPERLINK(\"x\")", "-1.5", "a,b"]),
            "\"'=HYPERLINK(\"\"x\"\")\",-1.5,\"a,b\""
        );
    }

    #[test]
    fn markdown_text_is_inert() {
        let t = md_text("<script>alert(1)</script>\n# heading | cell & *b*");
        assert!(!t.contains('<') && !t.contains('\n'), "{t}");
        assert!(t.contains("&lt;script&gt;") && t.contains("\\|") && t.contains("&amp;"));
        assert!(t.contains("\\*b\\*"), "{t}");
        assert_eq!(md_text("# x"), "\\# x");
        assert_eq!(md_text("1. x"), "1\\. x");
        assert_eq!(md_text("flood-t2"), "flood-t2");
        assert_eq!(md_code("a`b|c"), "``a`b\\|c``");
    }

    #[test]
    fn shell_words_do_not_expand() {
        for w in ["/a b/$(x)'y", "`id`", "x\"y", "~/a;b&c"] {
            let q = shell_word(w).unwrap();
            assert_eq!(shlex::split(&q), Some(vec![w.to_string()]), "{q}");
        }
        assert_eq!(shell_word("plain/path").unwrap(), "plain/path");
        assert!(shell_word("a\0b").is_err());
    }
}
