//! The bottom line's one-line input, shared by the `:` command line and the `/` filter:
//! typing and erasing, tab taking the first completion, and what ends it.

use crossterm::event::{KeyCode, KeyEvent};

#[derive(Debug, PartialEq, Eq)]
pub enum Edit {
    /// The text may have changed; the input stays open.
    Typed,
    /// Enter.
    Submitted,
    /// Esc.
    Cancelled,
}

/// Applies `key` to `text`; tab replaces it with `completion` when there is one.
pub fn edit(text: &mut String, key: &KeyEvent, completion: Option<&str>) -> Edit {
    match key.code {
        KeyCode::Esc => return Edit::Cancelled,
        KeyCode::Enter => return Edit::Submitted,
        KeyCode::Tab => {
            if let Some(completion) = completion {
                *text = completion.to_string();
            }
        }
        KeyCode::Backspace => {
            text.pop();
        }
        KeyCode::Char(c) => text.push(c),
        _ => {}
    }
    Edit::Typed
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyModifiers;

    use super::*;

    #[test]
    fn keys_type_erase_complete_and_end_the_input() {
        let key = |code| KeyEvent::new(code, KeyModifiers::NONE);
        let mut text = String::new();
        for c in "tasx".chars() {
            assert_eq!(edit(&mut text, &key(KeyCode::Char(c)), None), Edit::Typed);
        }
        edit(&mut text, &key(KeyCode::Backspace), None);
        assert_eq!(text, "tas");
        edit(&mut text, &key(KeyCode::Tab), Some("tasks"));
        assert_eq!(text, "tasks");
        assert_eq!(edit(&mut text, &key(KeyCode::Enter), None), Edit::Submitted);
        assert_eq!(edit(&mut text, &key(KeyCode::Esc), None), Edit::Cancelled);
    }
}
