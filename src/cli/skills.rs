//! `mcpfleet skills`: the skills a service serves (SEP-2640), or one skill's manifest — with
//! `--verify`, every file read and checked against the manifest's size and sha256 digest —
//! through the same worker and sign-in rules as `resources` and `prompts`.

use rmcp::model::SkillResources;

use crate::{
    inert::{inert, inert_line},
    mcp::{
        Browse, Browsed,
        skills::{FileStatus, SkillReport},
    },
};

use super::{CliError, GlobalArgs, browse::browse, exit, table};

pub struct SkillsArgs {
    /// SERVICE and NAME|URI, as typed (no SERVICE with --url).
    pub words: Vec<String>,
    pub task: Option<String>,
    pub verify: bool,
    pub json: bool,
}

pub async fn run(global: &GlobalArgs, args: SkillsArgs) -> Result<u8, CliError> {
    let (service, skill) = match (args.words.as_slice(), &global.url) {
        ([], Some(_)) => ("", None),
        ([skill], Some(_)) => ("", Some(skill)),
        ([service], None) => (service.as_str(), None),
        ([service, skill], None) => (service.as_str(), Some(skill)),
        _ => {
            return Err(CliError::new(
                exit::USAGE,
                "skills needs SERVICE [NAME|URI] (or --url URL and [NAME|URI])",
            ));
        }
    };
    let task = args.task.as_deref();
    let Some(skill) = skill else {
        if args.verify {
            return Err(CliError::new(
                exit::USAGE,
                "--verify needs a skill NAME or URI",
            ));
        }
        let Browsed::Skills { skills } =
            browse(global, service, task, Browse::Skills, args.json).await?
        else {
            return Err(CliError::new(exit::CONNECTION, "unexpected answer"));
        };
        if args.json {
            print_json(&serde_json::json!({ "skills": skills }));
            return Ok(exit::OK);
        }
        let rows: Vec<Vec<String>> = skills
            .iter()
            .map(|s| {
                vec![
                    s.name().to_string(),
                    s.frontmatter
                        .description
                        .lines()
                        .next()
                        .unwrap_or("")
                        .into(),
                    s.uri.clone(),
                    files(&s.resources),
                ]
            })
            .collect();
        print!(
            "{}",
            table::render(&["SKILL", "DESCRIPTION", "URI", "FILES"], &rows)
        );
        return Ok(exit::OK);
    };
    let what = Browse::Skill {
        skill: skill.clone(),
        verify: args.verify,
    };
    let Browsed::Skill(report) = browse(global, service, task, what, args.json).await? else {
        return Err(CliError::new(exit::CONNECTION, "unexpected answer"));
    };
    if args.json {
        print_json(&report);
    } else {
        print_report(&report);
    }
    if !report.sound() {
        let mut problems: Vec<String> = report.invalid.iter().cloned().collect();
        let failed: Vec<String> = report
            .failed()
            .iter()
            .map(|f| inert_line(&f.uri).into_owned())
            .collect();
        if !failed.is_empty() {
            problems.push(format!(
                "{} of the manifest's files failed: {}",
                failed.len(),
                failed.join(", ")
            ));
        }
        return Err(CliError::new(
            exit::INTEGRITY,
            format!(
                "skill {} does not verify: {}",
                inert_line(report.skill.name()),
                inert_line(&problems.join("; "))
            ),
        ));
    }
    if args.verify && matches!(report.skill.resources, SkillResources::Dynamic) {
        eprintln!("mcpfleet: the skill's files are dynamic: the server gives no digests to check");
    }
    Ok(exit::OK)
}

/// A manifest's file count, or `dynamic` when the server gives none.
fn files(resources: &SkillResources) -> String {
    match resources {
        SkillResources::Files(files) => files.len().to_string(),
        _ => "dynamic".into(),
    }
}

fn print_report(report: &SkillReport) {
    let skill = &report.skill;
    println!("skill:       {}", inert_line(skill.name()));
    println!("uri:         {}", inert_line(&skill.uri));
    println!(
        "description: {}",
        inert_line(&skill.frontmatter.description)
    );
    for (key, value) in &skill.frontmatter.extra {
        let value = match value {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        println!("{}: {}", inert_line(key), inert_line(&value));
    }
    if let Some(invalid) = &report.invalid {
        println!("invalid:     {}", inert_line(invalid));
    }
    match (&skill.resources, &report.files) {
        (SkillResources::Files(files), None) => {
            println!();
            let rows: Vec<Vec<String>> = files
                .iter()
                .map(|f| vec![f.uri.clone(), f.size.to_string(), f.digest.clone()])
                .collect();
            print!("{}", table::render(&["FILE", "SIZE", "DIGEST"], &rows));
        }
        (SkillResources::Files(_), Some(checks)) => {
            println!();
            for check in checks {
                let status = match check.status {
                    FileStatus::Ok => "ok",
                    FileStatus::Mismatch => "MISMATCH",
                    FileStatus::Unreadable => "UNREADABLE",
                };
                match &check.reason {
                    Some(reason) => println!(
                        "{status:<10} {}  ({})",
                        inert_line(&check.uri),
                        inert(reason)
                    ),
                    None => println!("{status:<10} {}", inert_line(&check.uri)),
                }
            }
        }
        _ => println!("files:       dynamic"),
    }
}

fn print_json(value: &impl serde::Serialize) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("MCP results serialise")
    );
}
