//! A service's skills (the skills extension, SEP-2640): name, files and description. Enter gets
//! the selected skill's manifest and verifies it — every file read and checked against its
//! size and sha256 digest, the manifest against the extension's rules — and the pane below
//! shows the frontmatter and each file's check. Through the MCP worker as `Fetch`es, answered
//! to this page; a server's text inert.

use std::time::SystemTime;

use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
    text::Line,
    widgets::{Paragraph, Row, Table},
};
use rmcp::model::{Skill, SkillResources};

use super::{Context, View, chrome};
use crate::{
    inert::inert_line,
    mcp::{Browse, BrowseUpdate, Browsed, CallId, FileStatus, SkillReport},
    ui::{
        action::{Action, Fetch, Scope, ViewKind},
        keys::KeyId,
        theme::Theme,
        widgets::{detail_pane, list::ListState},
    },
};

/// (header, widest it grows to); DESCRIPTION takes the rest.
const COLUMNS: &[(&str, u16)] = &[("NAME", 32), ("FILES", 8), ("DESCRIPTION", 0)];

pub struct SkillsView {
    scope: Scope,
    list: ListState,
    skills: Vec<Skill>,
    listed: Option<Result<SystemTime, String>>,
    listing: Option<CallId>,
    checking: Option<(CallId, String)>,
    checked: Option<(String, SystemTime, Result<SkillReport, String>)>,
}

impl SkillsView {
    pub fn new(scope: Scope) -> Self {
        Self {
            scope,
            list: ListState::default(),
            skills: Vec::new(),
            listed: None,
            listing: None,
            checking: None,
            checked: None,
        }
    }
}

fn files(skill: &Skill) -> String {
    match &skill.resources {
        SkillResources::Files(files) => files.len().to_string(),
        _ => "dynamic".into(),
    }
}

/// The manifest and what was checked of it.
fn report_lines(report: &SkillReport, theme: Theme) -> Vec<Line<'static>> {
    let skill = &report.skill;
    let line = |text: String| Line::raw(inert_line(&text).into_owned());
    let mut lines = vec![
        line(format!("uri          {}", skill.uri)),
        line(format!("description  {}", skill.frontmatter.description)),
    ];
    for (key, value) in &skill.frontmatter.extra {
        let value = value
            .as_str()
            .map_or_else(|| value.to_string(), str::to_string);
        lines.push(line(format!("{key}  {value}")));
    }
    if let Some(invalid) = &report.invalid {
        let text = format!("breaks the extension's rules: {invalid}");
        lines.push(Line::styled(inert_line(&text).into_owned(), theme.error()));
    }
    match &report.files {
        Some(checks) => {
            lines.push(Line::raw(""));
            for check in checks {
                let (word, style) = match check.status {
                    FileStatus::Ok => ("ok        ", theme.ok()),
                    FileStatus::Mismatch => ("MISMATCH  ", theme.error()),
                    FileStatus::Unreadable => ("UNREADABLE", theme.error()),
                };
                let reason = check
                    .reason
                    .as_deref()
                    .map(|r| format!("  ({r})"))
                    .unwrap_or_default();
                let text = format!("{word} {}{reason}", check.uri);
                lines.push(Line::styled(inert_line(&text).into_owned(), style));
            }
        }
        None => lines.push(Line::styled(
            "files are dynamic: the server gives no digests to check",
            theme.dim(),
        )),
    }
    lines
}

impl View for SkillsView {
    fn kind(&self) -> ViewKind {
        ViewKind::Skills
    }

    fn scope(&self) -> &Scope {
        &self.scope
    }

    fn title(&self) -> String {
        let service = self.scope.service.as_deref().unwrap_or("");
        format!("skills({service})")
    }

    fn list(&self) -> Option<&ListState> {
        Some(&self.list)
    }

    fn list_mut(&mut self) -> Option<&mut ListState> {
        Some(&mut self.list)
    }

    fn initial_fetches(&self) -> Vec<Fetch> {
        vec![Fetch::Browse(Browse::Skills)]
    }

    fn on_key(&mut self, key: KeyId, _ctx: &Context) -> Option<Action> {
        match key {
            KeyId::Open => {
                let uri = self.list.selected_id()?.to_string();
                let what = Browse::Skill {
                    skill: uri,
                    verify: true,
                };
                Some(Action::Fetch(self.scope.clone(), Fetch::Browse(what)))
            }
            other => self.list.on_key(other),
        }
    }

    fn on_fetch_started(&mut self, id: CallId, fetch: &Fetch) {
        match fetch {
            Fetch::Browse(Browse::Skills) => self.listing = Some(id),
            Fetch::Browse(Browse::Skill { skill, .. }) => {
                self.checking = Some((id, skill.clone()));
            }
            _ => {}
        }
    }

    fn on_fetch_update(
        &mut self,
        id: CallId,
        update: &BrowseUpdate,
        now: SystemTime,
    ) -> Option<Fetch> {
        let BrowseUpdate::Answer(answer) = update else {
            return None;
        };
        if self.listing == Some(id) {
            self.listing = None;
            self.listed = Some(match answer {
                Ok(Browsed::Skills { skills }) => {
                    self.skills = skills.clone();
                    Ok(now)
                }
                Ok(_) => Err("unexpected answer".into()),
                Err(error) => Err(error.to_string()),
            });
        } else if let Some((_, uri)) = self.checking.take_if(|(asked, _)| *asked == id) {
            let result = match answer {
                Ok(Browsed::Skill(report)) => Ok(report.clone()),
                Ok(_) => Err("unexpected answer".into()),
                Err(error) => Err(error.to_string()),
            };
            self.checked = Some((uri, now, result));
        }
        None
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &Context) {
        let theme = ctx.theme;
        let skills: Vec<&Skill> = (self.skills.iter())
            .filter(|s| {
                let cells = [s.name().to_string(), s.frontmatter.description.clone()];
                self.list.matches(&cells)
            })
            .collect();
        let table_height =
            (skills.len() as u16 + 1).clamp(2, (area.height.saturating_sub(1) / 3).max(2));
        let [summary, table_area, pane] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(table_height),
            Constraint::Min(0),
        ])
        .areas(area);
        let head = match &self.listed {
            None => Line::styled("listing…", theme.dim()),
            Some(Err(error)) => Line::styled(inert_line(error).into_owned(), theme.warn()),
            Some(Ok(at)) => Line::styled(
                format!(
                    "{} skills · listed {} ago",
                    self.skills.len(),
                    chrome::age(*at, ctx.now)
                ),
                theme.dim(),
            ),
        };
        frame.render_widget(Paragraph::new(head), summary);
        let rows = skills.iter().map(|s| {
            Row::new(vec![
                Line::raw(inert_line(s.name()).into_owned()),
                Line::raw(files(s)),
                Line::styled(
                    inert_line(&s.frontmatter.description).into_owned(),
                    theme.dim(),
                ),
            ])
        });
        let name_width = (skills.iter().map(|s| s.name().chars().count()))
            .max()
            .unwrap_or(0)
            .clamp(4, usize::from(COLUMNS[0].1)) as u16;
        let constraints = [
            Constraint::Length(name_width),
            Constraint::Length(COLUMNS[1].1),
            Constraint::Fill(1),
        ];
        let table = Table::new(rows, constraints)
            .header(Row::new(COLUMNS.iter().map(|c| c.0)).style(theme.header()))
            .column_spacing(2);
        let ids = skills.iter().map(|s| s.uri.clone()).collect();
        self.list.draw(frame, table_area, table, ids, theme);

        let (title, lines) = match (&self.checked, &self.checking) {
            (_, Some(_)) => ("verifying…".to_string(), Vec::new()),
            (Some((uri, at, result)), None) => {
                let title = format!("{} · verified {} ago", uri, chrome::age(*at, ctx.now));
                let lines = match result {
                    Ok(report) => report_lines(report, theme),
                    Err(error) => vec![Line::styled(inert_line(error).into_owned(), theme.error())],
                };
                (inert_line(&title).into_owned(), lines)
            }
            (None, None) => (
                "manifest".to_string(),
                vec![Line::styled(
                    "enter gets the selected skill's manifest and checks every file's digest",
                    theme.dim(),
                )],
            ),
        };
        frame.render_widget(detail_pane(title, "", lines, theme), pane);
    }
}

#[cfg(test)]
mod tests {
    use rmcp::model::{SkillFrontmatter, SkillResource};

    use super::*;
    use crate::{
        mcp::FileCheck,
        ui::views::{fixtures::Fixture, snapshot_support::render},
    };

    const URI: &str = "skill://deploy/SKILL.md";

    fn skill() -> Skill {
        let files = vec![
            SkillResource::new(URI, "sha256:00", 10),
            SkillResource::new("skill://deploy/run.sh", "sha256:11", 20),
        ];
        Skill::new(
            URI,
            SkillFrontmatter::new("deploy", "Roll a service out\u{1b}[2J"),
            SkillResources::Files(files),
        )
    }

    #[test]
    fn enter_verifies_the_skill_and_the_pane_names_each_file() {
        let fixture = Fixture::new();
        let ctx = fixture.context();
        let mut view = SkillsView::new(Scope::service("ops"));
        assert_eq!(view.initial_fetches(), vec![Fetch::Browse(Browse::Skills)]);
        view.on_fetch_started(1, &Fetch::Browse(Browse::Skills));
        let listed = Ok(Browsed::Skills {
            skills: vec![skill()],
        });
        view.on_fetch_update(1, &BrowseUpdate::Answer(listed), ctx.now);
        let screen = render(&mut view, &ctx, 100, 20);
        assert!(screen.contains("1 skills"), "{screen}");
        assert!(screen.contains("deploy"), "{screen}");
        assert!(
            !screen.contains('\u{1b}'),
            "a server's text is inert: {screen}"
        );

        let Some(Action::Fetch(_, fetch)) = view.on_key(KeyId::Open, &ctx) else {
            panic!("enter fetches the skill");
        };
        let expected = Browse::Skill {
            skill: URI.into(),
            verify: true,
        };
        assert_eq!(fetch, Fetch::Browse(expected));
        view.on_fetch_started(2, &fetch);
        let report = SkillReport {
            skill: skill(),
            invalid: None,
            files: Some(vec![
                FileCheck {
                    uri: URI.into(),
                    status: FileStatus::Ok,
                    reason: None,
                },
                FileCheck {
                    uri: "skill://deploy/run.sh".into(),
                    status: FileStatus::Mismatch,
                    reason: Some("digest differs".into()),
                },
            ]),
        };
        let answer = Ok(Browsed::Skill(report));
        view.on_fetch_update(2, &BrowseUpdate::Answer(answer), ctx.now);
        let screen = render(&mut view, &ctx, 100, 20);
        assert!(
            screen.contains("ok         skill://deploy/SKILL.md"),
            "{screen}"
        );
        assert!(
            screen.contains("MISMATCH   skill://deploy/run.sh  (digest differs)"),
            "{screen}"
        );
    }
}
