//! The rewriter oracle: parse routed SQL with `sqlparser` and check every
//! table reference.

use std::ops::ControlFlow;

use sqlparser::{
    ast::{
        ColumnOption, ObjectName, ObjectNamePart, ObjectType, Statement, TableConstraint,
        visit_relations,
    },
    dialect::{Dialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect},
    parser::Parser,
};

use crate::Kind;

/// What a routed statement must look like.
#[derive(Debug, Clone)]
pub struct Expect<'a> {
    /// The backend.
    pub kind: Kind,
    /// The qualifier of tenant tables (`main` on SQLite; `None`: left unqualified).
    pub tenant_home: Option<&'a str>,
    /// The qualifier of shared tables.
    pub shared_home: &'a str,
    /// Tenant-scoped table names.
    pub tenant_tables: &'a [&'a str],
    /// Shared table names.
    pub shared_tables: &'a [&'a str],
}

/// How one statement fared.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Parsed and every reference checked (the count of references).
    Checked(usize),
    /// sqlparser cannot parse the original either; only the text check ran.
    Unparsable,
}

fn parts(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(ident) => ident.value.clone(),
            ObjectNamePart::Function(f) => f.name.value.clone(),
        })
        .collect()
}

fn quote(kind: Kind, home: &str) -> String {
    match kind {
        Kind::MySql => format!("`{home}`."),
        _ => format!("\"{home}\"."),
    }
}

fn dialect(kind: Kind) -> Box<dyn Dialect> {
    match kind {
        Kind::Postgres | Kind::Citus => Box::new(PostgreSqlDialect {}),
        Kind::MySql => Box::new(MySqlDialect {}),
        Kind::Sqlite => Box::new(SQLiteDialect {}),
    }
}

/// Every table name a statement references, as written. SQLite names the
/// table of an index and the target of a foreign key without a schema
/// (both must be in the statement's own): those are left out there.
fn references(stmt: &Statement, kind: Kind) -> Vec<ObjectName> {
    let mut names = Vec::new();
    let sqlite = kind == Kind::Sqlite;
    if sqlite && matches!(stmt, Statement::CreateIndex(_)) {
        return names;
    }
    let _ = visit_relations(stmt, |name| {
        names.push(name.clone());
        ControlFlow::<()>::Continue(())
    });
    match stmt {
        Statement::Drop {
            object_type: ObjectType::Table,
            names: dropped,
            ..
        } => names.extend(dropped.iter().cloned()),
        Statement::CreateTable(create) if !sqlite => {
            for constraint in &create.constraints {
                if let TableConstraint::ForeignKey { foreign_table, .. } = constraint {
                    names.push(foreign_table.clone());
                }
            }
            for column in &create.columns {
                for option in &column.options {
                    if let ColumnOption::ForeignKey { foreign_table, .. } = &option.option {
                        names.push(foreign_table.clone());
                    }
                }
            }
        }
        _ => {}
    }
    names
}

/// Checks `routed` against `original`.
///
/// # Errors
/// A description of the first problem found.
pub fn check(original: &str, routed: &str, expect: &Expect<'_>) -> Result<Verdict, String> {
    // Nothing but the qualifiers changed.
    let mut stripped_routed = routed.to_owned();
    let mut stripped_original = original.to_owned();
    for home in expect.tenant_home.iter().chain([&expect.shared_home]) {
        let prefix = quote(expect.kind, home);
        stripped_routed = stripped_routed.replace(&prefix, "");
        stripped_original = stripped_original.replace(&prefix, "");
    }
    if stripped_routed != stripped_original {
        return Err(format!(
            "more than qualifiers changed:\n  original: {original}\n  routed:   {routed}"
        ));
    }
    let dialect = dialect(expect.kind);
    let statements = match Parser::parse_sql(&*dialect, routed) {
        Ok(statements) => statements,
        Err(routed_err) => {
            return match Parser::parse_sql(&*dialect, original) {
                Ok(_) => Err(format!(
                    "original parses, routed does not ({routed_err}):\n  routed: {routed}"
                )),
                Err(_) => Ok(Verdict::Unparsable),
            };
        }
    };
    let mut checked = 0;
    for stmt in &statements {
        for name in references(stmt, expect.kind) {
            let parts = parts(&name);
            let Some((table, qualifier)) = parts.split_last() else {
                continue;
            };
            let qualifier = qualifier.last().map(String::as_str);
            let want = if expect.tenant_tables.contains(&table.as_str()) {
                expect.tenant_home
            } else if expect.shared_tables.contains(&table.as_str()) {
                Some(expect.shared_home)
            } else {
                continue;
            };
            if qualifier != want {
                return Err(format!(
                    "{table} qualified as {qualifier:?}, want {want:?}:\n  routed: {routed}"
                ));
            }
            checked += 1;
        }
    }
    Ok(Verdict::Checked(checked))
}
