//! A server's text made safe to show: control characters become visible escapes (`\u{1b}`),
//! so nothing a server sends can move the cursor, clear the screen, retitle the terminal or
//! write the clipboard. Every place that shows a server's text goes through here.

use std::borrow::Cow;

/// `text` with control characters escaped, keeping line breaks and tabs.
pub fn inert(text: &str) -> Cow<'_, str> {
    escaped(text, |c| c == '\n' || c == '\t')
}

/// `text` as one line: line breaks are escaped too.
pub fn inert_line(text: &str) -> Cow<'_, str> {
    escaped(text, |_| false)
}

fn escaped(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && !keep(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() && !keep(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_shown_not_obeyed() {
        let hostile = "ok\u{1b}[2J\u{1b}]0;owned\u{7}\r\nnext\tcol";
        assert_eq!(
            inert(hostile),
            "ok\\u{1b}[2J\\u{1b}]0;owned\\u{7}\\r\nnext\tcol"
        );
        assert_eq!(inert_line("a\nb"), "a\\nb");
        assert!(matches!(inert("plain"), Cow::Borrowed("plain")));
    }
}
