//! The one key table. It maps keys to what they do in which view, and the footer hints and the
//! `?` help are generated from it, so they can never disagree with what the keys do.
//! Dangerous entries (they change the fleet) are left out under `--read-only` and on a source
//! that cannot change its services (`Offered`).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::ViewKind;
use crate::fleet::SourceKind;

/// Which entries are offered: the dangerous ones (scale, deploy, rollback, stop task) only
/// where the fleet may be changed — not under `--read-only`, not on a source that cannot act
/// on its services (static servers are somebody else's deployment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offered {
    pub read_only: bool,
    pub source: SourceKind,
}

impl Offered {
    pub fn new(read_only: bool, source: SourceKind) -> Self {
        Self { read_only, source }
    }

    /// Whether commands that change the fleet may be offered at all.
    pub fn fleet_commands(self) -> bool {
        !self.read_only && self.source.acts_on_services()
    }

    fn allows(self, binding: &Binding) -> bool {
        !binding.dangerous || self.fleet_commands()
    }
}

/// What a key means, independent of which key it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyId {
    Quit,
    Refresh,
    Back,
    Help,
    CommandLine,
    Filter,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Tasks,
    Logs,
    Tools,
    Rollout,
    History,
    Scale,
    ForceDeploy,
    Rollback,
    StopTask,
    Follow,
    Wrap,
    Level,
    Save,
    Expand,
    Send,
    CancelCall,
    FanOut,
    Repro,
    Bench,
    Replay,
    RawJson,
    Target,
    LogLevel,
    NextField,
    PrevField,
    Protocol,
    CopyResult,
    CopyCli,
    CopyCurl,
    SignOut,
    Resources,
    Prompts,
    Skills,
    Subscribe,
    Complete,
    AppUi,
    OpenApp,
    TraceLogs,
    Drift,
    Doctor,
    Again,
    Exec,
    Forward,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyScope {
    Global,
    /// Keys of the lists (services, tasks, logs, tools, history).
    Lists,
    View(ViewKind),
}

#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub id: KeyId,
    /// The keys, as (code, modifiers); the first is the one shown.
    pub keys: &'static [(KeyCode, KeyModifiers)],
    /// How the key is shown in hints and help.
    pub label: &'static str,
    pub description: &'static str,
    pub scope: KeyScope,
    /// Changes the fleet: goes through a confirmation, and is absent where `Offered` says the
    /// fleet may not be changed.
    pub dangerous: bool,
    /// Shown in the footer (the rest only in `?` help).
    pub hint: bool,
}

const NONE: KeyModifiers = KeyModifiers::NONE;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;
const SHIFT: KeyModifiers = KeyModifiers::SHIFT;

macro_rules! bind {
    ($id:ident, [$(($code:expr, $mods:expr)),+], $label:literal, $desc:literal, $scope:expr, $danger:literal, $hint:literal) => {
        Binding {
            id: KeyId::$id,
            keys: &[$(($code, $mods)),+],
            label: $label,
            description: $desc,
            scope: $scope,
            dangerous: $danger,
            hint: $hint,
        }
    };
}

use KeyCode::{BackTab, Char, Down, End, Enter, Esc, F, Home, PageDown, PageUp, Tab, Up};
use KeyScope::{Global, Lists, View};
use ViewKind as V;

// One binding per line: the table is read as a table.
#[rustfmt::skip]
pub const TABLE: &[Binding] = &[
    bind!(Quit, [(Char('q'), NONE), (Char('c'), CTRL)], "q", "quit", Global, false, true),
    bind!(Back, [(Esc, NONE)], "esc", "back", Global, false, true),
    bind!(Help, [(Char('?'), NONE), (Char('?'), SHIFT)], "?", "help", Global, false, true),
    bind!(CommandLine, [(Char(':'), NONE), (Char(':'), SHIFT)], ":", "command", Global, false, true),
    bind!(Refresh, [(Char('r'), CTRL)], "ctrl-r", "refresh now", Global, false, false),
    bind!(Filter, [(Char('/'), NONE)], "/", "filter", Lists, false, true),
    bind!(Up, [(Up, NONE), (Char('k'), NONE)], "↑/k", "up", Lists, false, false),
    bind!(Down, [(Down, NONE), (Char('j'), NONE)], "↓/j", "down", Lists, false, false),
    bind!(PageUp, [(PageUp, NONE), (Char('b'), CTRL)], "pgup", "page up", Lists, false, false),
    bind!(PageDown, [(PageDown, NONE), (Char('f'), CTRL)], "pgdn", "page down", Lists, false, false),
    bind!(Top, [(Home, NONE), (Char('g'), NONE)], "g", "top", Lists, false, false),
    bind!(Bottom, [(End, NONE), (Char('G'), SHIFT), (Char('G'), NONE)], "G", "bottom", Lists, false, false),
    bind!(Open, [(Enter, NONE)], "enter", "open", View(V::Services), false, true),
    bind!(Open, [(Enter, NONE)], "enter", "logs of task", View(V::Tasks), false, true),
    bind!(Open, [(Enter, NONE)], "enter", "call tool", View(V::Tools), false, true),
    bind!(Open, [(Enter, NONE)], "enter", "open call", View(V::History), false, true),
    bind!(Tasks, [(Char('t'), NONE)], "t", "tasks", View(V::Services), false, false),
    bind!(Logs, [(Char('l'), NONE)], "l", "logs", View(V::Services), false, true),
    bind!(Logs, [(Char('l'), NONE)], "l", "logs", View(V::Tasks), false, true),
    bind!(Tools, [(Char('o'), NONE)], "o", "tools", View(V::Services), false, true),
    bind!(Tools, [(Char('o'), NONE)], "o", "tools of task", View(V::Tasks), false, true),
    bind!(Rollout, [(Char('r'), NONE)], "r", "rollout", View(V::Services), false, true),
    bind!(Resources, [(Char('R'), SHIFT), (Char('R'), NONE)], "R", "resources", View(V::Services), false, false),
    bind!(Prompts, [(Char('p'), NONE)], "p", "prompts", View(V::Services), false, false),
    bind!(Skills, [(Char('K'), SHIFT), (Char('K'), NONE)], "K", "skills", View(V::Services), false, false),
    bind!(Drift, [(Char('D'), SHIFT), (Char('D'), NONE)], "D", "drift: what differs between replicas", View(V::Services), false, false),
    bind!(Drift, [(Char('D'), SHIFT), (Char('D'), NONE)], "D", "drift: what differs between replicas", View(V::Rollout), false, false),
    bind!(Scale, [(Char('s'), NONE)], "s", "scale", View(V::Services), true, true),
    bind!(ForceDeploy, [(Char('d'), NONE)], "d", "force new deployment", View(V::Services), true, true),
    bind!(Rollback, [(Char('b'), NONE)], "b", "rollback", View(V::Rollout), true, true),
    bind!(ForceDeploy, [(Char('d'), NONE)], "d", "force new deployment", View(V::Rollout), true, true),
    bind!(StopTask, [(Char('x'), NONE)], "x", "stop task", View(V::Tasks), true, true),
    bind!(Doctor, [(Char('D'), SHIFT), (Char('D'), NONE)], "D", "doctor: check the connection", View(V::Tasks), false, true),
    bind!(Exec, [(Char('e'), NONE)], "e", "shell in the task (ECS Exec)", View(V::Tasks), false, true),
    bind!(Forward, [(Char('f'), NONE)], "f", "forward the task's MCP port here", View(V::Tasks), false, false),
    bind!(Again, [(Char('r'), NONE)], "r", "check again", View(V::Doctor), false, true),
    bind!(Follow, [(Char('f'), NONE)], "f", "follow/pause", View(V::Logs), false, true),
    bind!(Wrap, [(Char('w'), NONE)], "w", "wrap", View(V::Logs), false, true),
    bind!(Level, [(Char('v'), NONE)], "v", "level filter", View(V::Logs), false, true),
    bind!(Save, [(Char('s'), NONE)], "s", "save matching lines", View(V::Logs), false, true),
    bind!(Expand, [(Enter, NONE)], "enter", "expand fields", View(V::Logs), false, true),
    bind!(Send, [(Char('s'), CTRL), (F(5), NONE)], "ctrl-s", "send", View(V::Call), false, true),
    bind!(CancelCall, [(Char('x'), CTRL)], "ctrl-x", "cancel call", View(V::Call), false, true),
    bind!(FanOut, [(Char('a'), CTRL)], "ctrl-a", "send to every replica, compared", View(V::Call), false, true),
    bind!(Repro, [(Char('e'), CTRL)], "ctrl-e", "send 200 times: find the flaky replica", View(V::Call), false, true),
    bind!(Bench, [(Char('o'), CTRL)], "ctrl-o", "bench: load it for 30 s, live charts", View(V::Call), false, true),
    bind!(CancelCall, [(Char('x'), CTRL)], "ctrl-x", "stop the run", View(V::Repro), false, true),
    bind!(CancelCall, [(Char('x'), CTRL)], "ctrl-x", "stop the run", View(V::Bench), false, true),
    bind!(Replay, [(Char('r'), NONE)], "r", "send it again: what changed", View(V::Incidents), false, true),
    bind!(RawJson, [(Char('r'), CTRL)], "ctrl-r", "form/raw JSON", View(V::Call), false, true),
    bind!(Target, [(Char('t'), CTRL)], "ctrl-t", "target task", View(V::Call), false, true),
    bind!(LogLevel, [(Char('l'), CTRL)], "ctrl-l", "server log level", View(V::Call), false, false),
    bind!(NextField, [(Tab, NONE)], "tab", "next field", View(V::Call), false, false),
    bind!(PrevField, [(BackTab, SHIFT), (BackTab, NONE)], "shift-tab", "previous field", View(V::Call), false, false),
    bind!(Protocol, [(Char('p'), CTRL)], "ctrl-p", "result/protocol", View(V::Call), false, true),
    bind!(Protocol, [(Char('p'), CTRL)], "ctrl-p", "details/protocol", View(V::History), false, true),
    bind!(TraceLogs, [(Char('g'), CTRL)], "ctrl-g", "go to the call's log lines", View(V::Call), false, true),
    bind!(TraceLogs, [(Char('g'), CTRL)], "ctrl-g", "go to the call's log lines", View(V::History), false, true),
    bind!(TraceLogs, [(Char('g'), CTRL)], "ctrl-g", "go to the failed call's log lines", View(V::Incidents), false, true),
    bind!(CopyResult, [(Char('y'), CTRL)], "ctrl-y", "copy result", View(V::Call), false, true),
    bind!(CopyCli, [(Char('k'), CTRL)], "ctrl-k", "copy as mcpfleet call", View(V::Call), false, false),
    bind!(CopyCurl, [(Char('u'), CTRL)], "ctrl-u", "copy as curl", View(V::Call), false, false),
    bind!(Open, [(Enter, NONE)], "enter", "edit field", View(V::Call), false, true),
    bind!(Up, [(Up, NONE), (Char('k'), NONE)], "↑/k", "scroll result", View(V::Call), false, false),
    bind!(Down, [(Down, NONE), (Char('j'), NONE)], "↓/j", "scroll result", View(V::Call), false, false),
    bind!(PageUp, [(PageUp, NONE)], "pgup", "page up the result", View(V::Call), false, false),
    bind!(PageDown, [(PageDown, NONE)], "pgdn", "page down the result", View(V::Call), false, false),
    bind!(History, [(Char('h'), NONE)], "h", "history", View(V::Tools), false, true),
    bind!(Resources, [(Char('R'), SHIFT), (Char('R'), NONE)], "R", "resources", View(V::Tools), false, true),
    bind!(Prompts, [(Char('p'), NONE)], "p", "prompts", View(V::Tools), false, true),
    bind!(Skills, [(Char('K'), SHIFT), (Char('K'), NONE)], "K", "skills", View(V::Tools), false, false),
    bind!(Open, [(Enter, NONE)], "enter", "get and verify the skill", View(V::Skills), false, true),
    bind!(AppUi, [(Char('u'), NONE)], "u", "app UI details", View(V::Tools), false, true),
    bind!(OpenApp, [(Char('U'), SHIFT), (Char('U'), NONE)], "U", "open app UI in browser", View(V::Tools), false, false),
    bind!(Open, [(Enter, NONE)], "enter", "read / fill in template", View(V::Resources), false, true),
    bind!(Subscribe, [(Char('s'), NONE)], "s", "subscribe/unsubscribe", View(V::Resources), false, true),
    bind!(Send, [(Char('s'), CTRL), (F(5), NONE)], "ctrl-s", "read the template's URI", View(V::Resources), false, true),
    bind!(Complete, [(Tab, NONE), (Char(' '), CTRL)], "tab", "complete the field", View(V::Resources), false, true),
    bind!(Open, [(Enter, NONE)], "enter", "fill in arguments", View(V::Prompts), false, true),
    bind!(Send, [(Char('s'), CTRL), (F(5), NONE)], "ctrl-s", "get the prompt", View(V::Prompts), false, true),
    bind!(Complete, [(Tab, NONE), (Char(' '), CTRL)], "tab", "complete the field", View(V::Prompts), false, true),
    bind!(Open, [(Enter, NONE)], "enter", "sign in again", View(V::Auth), false, true),
    bind!(SignOut, [(Char('d'), NONE)], "d", "sign out", View(V::Auth), false, true),
];

fn in_scope(binding: &Binding, view: ViewKind, lists: bool) -> bool {
    match binding.scope {
        Global => true,
        Lists => lists,
        View(kind) => kind == view,
    }
}

fn matches(binding: &Binding, key: &KeyEvent) -> bool {
    binding
        .keys
        .iter()
        .any(|&(code, mods)| code == key.code && mods == key.modifiers)
}

/// What `key` means in `view` (`lists`: the view is a list), most specific scope first.
pub fn lookup(key: &KeyEvent, view: ViewKind, lists: bool, offered: Offered) -> Option<KeyId> {
    let usable = |b: &&Binding| offered.allows(b) && in_scope(b, view, lists);
    let specific = TABLE
        .iter()
        .filter(usable)
        .find(|b| matches!(b.scope, View(_)) && matches(b, key));
    specific
        .or_else(|| TABLE.iter().filter(usable).find(|b| matches(b, key)))
        .map(|b| b.id)
}

/// The bindings that apply in `view`, view-specific first: the footer and `?` help.
pub fn bindings(view: ViewKind, lists: bool, offered: Offered) -> Vec<&'static Binding> {
    let mut out: Vec<&Binding> = TABLE
        .iter()
        .filter(|b| offered.allows(b) && in_scope(b, view, lists))
        .collect();
    out.sort_by_key(|b| match b.scope {
        View(_) => 0,
        Lists => 1,
        Global => 2,
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANY: Offered = Offered {
        read_only: false,
        source: SourceKind::Local,
    };
    const READ_ONLY: Offered = Offered {
        read_only: true,
        source: SourceKind::Local,
    };

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, NONE)
    }

    #[test]
    fn view_keys_win_over_global_ones() {
        assert_eq!(
            lookup(&key(Char('s')), V::Services, true, ANY),
            Some(KeyId::Scale)
        );
        assert_eq!(
            lookup(&key(Char('s')), V::Logs, true, ANY),
            Some(KeyId::Save)
        );
        assert_eq!(lookup(&key(Enter), V::Tools, true, ANY), Some(KeyId::Open));
        assert_eq!(
            lookup(&key(Char('q')), V::Tasks, true, ANY),
            Some(KeyId::Quit)
        );
        assert_eq!(
            lookup(&KeyEvent::new(Char('c'), CTRL), V::Call, false, ANY),
            Some(KeyId::Quit)
        );
        assert_eq!(
            lookup(&key(Char('j')), V::Services, true, ANY),
            Some(KeyId::Down)
        );
        assert_eq!(
            lookup(&key(Char('j')), V::Help, false, ANY),
            None,
            "help is not a list"
        );
    }

    #[test]
    fn read_only_removes_dangerous_keys() {
        assert_eq!(lookup(&key(Char('s')), V::Services, true, READ_ONLY), None);
        assert_eq!(lookup(&key(Char('x')), V::Tasks, true, READ_ONLY), None);
        assert!(
            bindings(V::Services, true, READ_ONLY)
                .iter()
                .all(|b| !b.dangerous)
        );
        assert!(bindings(V::Services, true, ANY).iter().any(|b| b.dangerous));
    }

    #[test]
    fn a_source_that_cannot_change_its_services_is_offered_no_fleet_command() {
        let fixed = Offered::new(false, SourceKind::Static);
        for (view, code) in [
            (V::Services, 's'),
            (V::Services, 'd'),
            (V::Rollout, 'b'),
            (V::Tasks, 'x'),
        ] {
            assert_eq!(lookup(&key(Char(code)), view, true, fixed), None, "{code}");
            assert!(
                lookup(&key(Char(code)), view, true, ANY).is_some(),
                "{code}"
            );
        }
        for view in [V::Services, V::Rollout, V::Tasks] {
            assert!(bindings(view, true, fixed).iter().all(|b| !b.dangerous));
        }
        assert!(!fixed.fleet_commands() && !READ_ONLY.fleet_commands() && ANY.fleet_commands());
    }

    #[test]
    fn every_key_is_bound_once_per_scope() {
        for (i, a) in TABLE.iter().enumerate() {
            for b in &TABLE[i + 1..] {
                let overlap = a.keys.iter().any(|k| b.keys.contains(k));
                assert!(
                    !(overlap && a.scope == b.scope),
                    "{} and {} share a key in {:?}",
                    a.label,
                    b.label,
                    a.scope
                );
            }
        }
    }
}
