//! The list under every list screen (services, tasks, tools, history, stats): its filter, its
//! selection, held by row id so it stays on its row when rows move, one `TableState` kept across
//! frames so the scroll offset persists, and what the last draw measured (the page, where the
//! rows are), so keys and clicks move the selection alike on every screen. A screen keeps its
//! columns and builds its rows; this draws them. Nothing here knows what a row is.

use ratatui::{
    Frame,
    layout::Rect,
    widgets::{Table, TableState},
};

use crate::ui::{action::Action, keys::KeyId, theme::Theme};

#[derive(Debug, Default)]
pub struct ListState {
    filter: String,
    /// The ids of the rows drawn last, top to bottom.
    ids: Vec<String>,
    /// The selected row's id. When it is no longer drawn the selection stays at `position`.
    selected: Option<String>,
    position: usize,
    table: TableState,
    /// Rows that fit below the header at the last draw.
    page: usize,
    /// Where the rows (not the header) were drawn last; none until drawn.
    rows_area: Rect,
}

impl ListState {
    pub fn filter(&self) -> &str {
        &self.filter
    }

    /// A new filter starts again from the first row.
    pub fn set_filter(&mut self, filter: String) {
        self.filter = filter;
        (self.selected, self.position) = (None, 0);
        *self.table.offset_mut() = 0;
    }

    /// Whether a row showing `cells` passes the filter.
    pub fn matches(&self, cells: &[String]) -> bool {
        matches_filter(&self.filter, cells)
    }

    /// The ids of the rows drawn last.
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// The index of the selected row among those drawn last.
    pub fn selected(&self) -> Option<usize> {
        (self.position < self.ids.len()).then_some(self.position)
    }

    pub fn selected_id(&self) -> Option<&str> {
        self.ids.get(self.position).map(String::as_str)
    }

    /// Moves the selection for a list key (up, down, a page, top, bottom); other keys leave it.
    /// Moving asks nothing of the app, so a view hands over the keys it has no use for and
    /// returns this.
    pub fn on_key(&mut self, key: KeyId) -> Option<Action> {
        let (len, page) = (self.ids.len(), self.page);
        self.select(move_selection(self.position, len, key, page));
        None
    }

    /// Selects the row drawn on screen row `row`, if one is.
    pub fn on_click(&mut self, row: u16) {
        let area = self.rows_area;
        if row < area.y || row >= area.bottom() {
            return;
        }
        let index = self.table.offset() + usize::from(row - area.y);
        if index < self.ids.len() {
            self.select(index);
        }
    }

    /// Nothing is drawn this time (the screen shows why instead): keys and clicks select
    /// nothing until rows are drawn again.
    pub fn clear(&mut self) {
        self.ids.clear();
        self.rows_area = Rect::default();
    }

    /// Draws `table`, whose header is one line, in `area` with the selected row highlighted;
    /// `ids` names its rows in the same order.
    pub fn draw(
        &mut self,
        frame: &mut Frame,
        area: Rect,
        table: Table,
        ids: Vec<String>,
        theme: Theme,
    ) {
        self.set_rows(ids);
        self.rows_area = Rect {
            y: area.y.saturating_add(1),
            height: area.height.saturating_sub(1),
            ..area
        };
        self.page = usize::from(self.rows_area.height);
        self.table.select(self.selected());
        let table = table.row_highlight_style(theme.selected());
        frame.render_stateful_widget(table, area, &mut self.table);
    }

    /// The selection follows its row to where it is now; without it, it keeps its position.
    fn set_rows(&mut self, ids: Vec<String>) {
        let now_at = |id: &String| ids.iter().position(|other| other == id);
        if let Some(at) = self.selected.as_ref().and_then(now_at) {
            self.position = at;
        }
        self.ids = ids;
        self.select(self.position.min(self.ids.len().saturating_sub(1)));
    }

    fn select(&mut self, index: usize) {
        self.position = index;
        if let Some(id) = self.ids.get(index) {
            self.selected = Some(id.clone());
        }
    }
}

/// Moves a selection within `len` rows for a list key; other keys leave it.
pub fn move_selection(selected: usize, len: usize, key: KeyId, page: usize) -> usize {
    if len == 0 {
        return 0;
    }
    let last = len - 1;
    match key {
        KeyId::Up => selected.saturating_sub(1),
        KeyId::Down => (selected + 1).min(last),
        KeyId::PageUp => selected.saturating_sub(page.max(1)),
        KeyId::PageDown => (selected + page.max(1)).min(last),
        KeyId::Top => 0,
        KeyId::Bottom => last,
        _ => selected.min(last),
    }
}

/// Case-insensitive substring match of a filter against any of `cells`.
pub fn matches_filter(filter: &str, cells: &[String]) -> bool {
    if filter.is_empty() {
        return true;
    }
    let needle = filter.to_lowercase();
    cells
        .iter()
        .any(|cell| cell.to_lowercase().contains(&needle))
}

#[cfg(test)]
mod tests {
    use ratatui::{Terminal, backend::TestBackend, widgets::Row};

    use super::*;

    fn ids(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    /// Draws `rows` in a 20-column area `height` lines tall that starts at screen row `top`.
    fn draw(list: &mut ListState, rows: &[&str], top: u16, height: u16) {
        let backend = TestBackend::new(20, top + height);
        let mut terminal = Terminal::new(backend).expect("test backend");
        let table = Table::new(rows.iter().map(|r| Row::new([*r])), [20]).header(Row::new(["ID"]));
        let area = Rect::new(0, top, 20, height);
        let draw = |frame: &mut Frame| list.draw(frame, area, table, ids(rows), Theme::plain());
        terminal.draw(draw).expect("draw");
    }

    const ROWS: [&str; 10] = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];

    #[test]
    fn the_selection_stays_on_its_row_when_rows_move_and_in_place_when_it_goes() {
        let mut list = ListState::default();
        draw(&mut list, &["a", "b", "c", "d"], 0, 10);
        list.on_key(KeyId::Down);
        list.on_key(KeyId::Down);
        assert_eq!(list.selected_id(), Some("c"));
        draw(&mut list, &["d", "c", "b", "a"], 0, 10);
        assert_eq!((list.selected(), list.selected_id()), (Some(1), Some("c")));
        draw(&mut list, &["d", "b", "a"], 0, 10);
        assert_eq!(
            list.selected_id(),
            Some("b"),
            "c went: the row now at its place"
        );
        draw(&mut list, &["d"], 0, 10);
        assert_eq!(list.selected_id(), Some("d"), "clamped to the last row");
        list.clear();
        assert_eq!(list.selected(), None);
        draw(&mut list, &["a", "d"], 0, 10);
        assert_eq!(
            list.selected_id(),
            Some("d"),
            "back on its row once drawn again"
        );
        list.set_filter("x".into());
        draw(&mut list, &["a", "d"], 0, 10);
        assert_eq!(
            list.selected_id(),
            Some("a"),
            "a new filter starts at the top"
        );
    }

    #[test]
    fn page_keys_move_by_the_rows_that_fit() {
        let mut list = ListState::default();
        // Five lines: the header and four rows.
        draw(&mut list, &ROWS, 0, 5);
        list.on_key(KeyId::PageDown);
        assert_eq!(list.selected_id(), Some("e"));
        list.on_key(KeyId::PageDown);
        list.on_key(KeyId::PageUp);
        assert_eq!(list.selected_id(), Some("e"));
        list.on_key(KeyId::Bottom);
        list.on_key(KeyId::PageDown);
        assert_eq!(list.selected_id(), Some("j"));
        list.on_key(KeyId::Top);
        assert_eq!(list.selected_id(), Some("a"));
    }

    #[test]
    fn a_click_selects_the_row_drawn_under_it_after_scrolling() {
        let mut list = ListState::default();
        // From screen row 3: the header, then four rows on screen rows 4 to 7.
        draw(&mut list, &ROWS, 3, 5);
        list.on_key(KeyId::Bottom);
        draw(&mut list, &ROWS, 3, 5);
        // Rows g to j are shown now: g on screen row 4.
        list.on_click(5);
        assert_eq!(list.selected_id(), Some("h"));
        draw(&mut list, &ROWS, 3, 5);
        list.on_click(4);
        assert_eq!(
            list.selected_id(),
            Some("g"),
            "the offset is kept across draws"
        );
    }

    #[test]
    fn a_click_on_the_header_or_below_the_rows_selects_nothing() {
        let mut list = ListState::default();
        draw(&mut list, &["a", "b"], 3, 6);
        list.on_key(KeyId::Down);
        for row in [0, 3, 6, 8, 9] {
            list.on_click(row);
            assert_eq!(list.selected_id(), Some("b"), "row {row}");
        }
        list.on_click(4);
        assert_eq!(list.selected_id(), Some("a"));
        list.clear();
        list.on_click(5);
        assert_eq!(list.selected(), None, "nothing drawn, nothing to click");
    }

    #[test]
    fn filters_match_any_cell_ignoring_case() {
        let mut list = ListState::default();
        assert!(list.matches(&[]));
        list.set_filter("Echo".into());
        assert!(list.matches(&ids(&["whoami", "an ECHO tool"])));
        assert!(!list.matches(&ids(&["whoami"])));
    }
}
