//! `tenant placement|move|rebalance|lint`: a Citus cluster from the
//! command line.

use std::process::ExitCode;

use serde_json::json;

use super::{args::TenantCommand, error::CliError};
use crate::{cluster::Transfer, tenancy::Tenancy};

fn transfer(online: bool) -> Transfer {
    if online {
        Transfer::Online
    } else {
        Transfer::BlockWrites
    }
}

fn print_json(value: &impl serde::Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string(value)
        .map_err(|e| CliError::Tenancy(crate::error::Error::Config(e.to_string())))?;
    println!("{text}");
    Ok(())
}

/// Runs a cluster verb of `tenant`.
pub(super) async fn run(tenancy: &Tenancy, cmd: TenantCommand) -> Result<ExitCode, CliError> {
    match cmd {
        TenantCommand::Placement {
            name: Some(name),
            json,
        } => {
            let node = tenancy.placement(&name).await?;
            if json {
                print_json(&json!({"name": name, "node": node}))?;
            } else {
                match node {
                    Some(node) => println!("{name}  {node}"),
                    None => println!("{name}  (no table yet: not placed)"),
                }
            }
        }
        TenantCommand::Placement { name: None, json } => {
            let placements = tenancy.placements().await?;
            if json {
                let out: Vec<_> = placements
                    .iter()
                    .map(|(id, node)| json!({"name": id.as_str(), "node": node}))
                    .collect();
                print_json(&out)?;
            } else {
                for (id, node) in &placements {
                    println!("{id}  {node}");
                }
            }
        }
        TenantCommand::Move { name, to, online } => {
            tenancy.move_tenant(&name, &to, transfer(online)).await?;
            println!("{name} is on {to}");
        }
        TenantCommand::Rebalance {
            dry_run,
            online,
            json,
        } => {
            let moves = if dry_run {
                tenancy.rebalance_plan().await?
            } else {
                tenancy.rebalance(transfer(online)).await?
            };
            if json {
                print_json(&moves)?;
            } else {
                let verb = if dry_run { "would move" } else { "moved" };
                for m in &moves {
                    println!("{verb} {}  {} -> {}", m.home, m.from, m.to);
                }
                println!("{} {verb}", moves.len());
            }
        }
        TenantCommand::Lint { json } => {
            let lints = tenancy.cluster_lint().await?;
            if json {
                print_json(&lints)?;
            } else {
                for lint in &lints {
                    println!("{lint}");
                }
            }
            if !lints.is_empty() {
                return Ok(ExitCode::FAILURE);
            }
        }
        TenantCommand::Create { .. } | TenantCommand::Drop { .. } | TenantCommand::List { .. } => {
            return Err(CliError::Tenancy(crate::error::Error::Config(
                "not a cluster verb".to_owned(),
            )));
        }
    }
    Ok(ExitCode::SUCCESS)
}
