//! Copy to the clipboard with OSC 52, which terminals (and tmux with set-clipboard on) pass to
//! the system clipboard, also over SSH — no clipboard daemon needed.

use std::io::Write;

use base64::Engine;

pub fn osc52(text: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    format!("\x1b]52;c;{encoded}\x07")
}

pub fn copy(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(osc52(text).as_bytes());
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    #[test]
    fn osc52_carries_base64() {
        assert_eq!(super::osc52("hi"), "\x1b]52;c;aGk=\x07");
    }
}
