//! Turning what a person typed into a record id: a UUID is taken as it is;
//! anything else is matched case-insensitively against names, and must pick
//! out exactly one record (an exact name wins over partial matches).

use crate::error::{Failure, Result};
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use uuid::Uuid;
use vetdesk_app::{App, ErrorCode};
use vetdesk_core::{AppointmentId, AppointmentTypeId, ClientId, ClinicId, PetId, VetId};

/// The most candidates an ambiguity message lists.
const SHOWN: usize = 5;
/// How many records a name lookup reads (the store's page limit).
const LOOKUP_LIMIT: u32 = 500;

fn uuid(text: &str) -> Option<Uuid> {
    Uuid::parse_str(text.trim()).ok()
}

fn needle(what: &str, text: &str) -> Result<String> {
    let n = text.trim().to_lowercase();
    if n.is_empty() {
        return Err(Failure::invalid(format!("give a {what} id or name")));
    }
    Ok(n)
}

/// The one match among `matches`, or a not-found / ambiguous failure.
fn choose<T>(
    what: &str,
    plural: &str,
    text: &str,
    mut matches: Vec<T>,
    name: impl Fn(&T) -> String,
    label: impl Fn(&T) -> String,
) -> Result<T> {
    let n = text.trim().to_lowercase();
    if matches.len() > 1 {
        let exact: Vec<usize> = (0..matches.len())
            .filter(|i| name(&matches[*i]).to_lowercase() == n)
            .collect();
        if let [only] = exact[..] {
            return Ok(matches.swap_remove(only));
        }
    }
    match matches.len() {
        0 => Err(Failure::new(
            ErrorCode::NotFound,
            format!("no {what} matches '{}'", text.trim()),
        )),
        1 => Ok(matches.swap_remove(0)),
        count => {
            let mut shown: Vec<String> = matches.iter().take(SHOWN).map(label).collect();
            if count > SHOWN {
                shown.push(format!("and {} more", count - SHOWN));
            }
            Err(Failure::invalid(format!(
                "'{}' matches {count} {plural}: {}; give more of the name or the id",
                text.trim(),
                shown.join(", ")
            )))
        }
    }
}

pub async fn clinic(app: &App, text: &str) -> Result<ClinicId> {
    if let Some(id) = uuid(text) {
        return Ok(ClinicId(id));
    }
    let n = needle("clinic", text)?;
    let matches = app
        .clinics()
        .await?
        .into_iter()
        .filter(|c| c.name.as_str().to_lowercase().contains(&n))
        .collect();
    let c = choose(
        "clinic",
        "clinics",
        text,
        matches,
        |c| c.name.to_string(),
        |c| format!("{} ({})", c.name, c.id),
    )?;
    Ok(c.id)
}

pub async fn vet(app: &App, text: &str) -> Result<VetId> {
    if let Some(id) = uuid(text) {
        return Ok(VetId(id));
    }
    let n = needle("vet", text)?;
    let matches = app
        .vets(None)
        .await?
        .into_iter()
        .filter(|v| v.name.as_str().to_lowercase().contains(&n))
        .collect();
    let v = choose(
        "vet",
        "vets",
        text,
        matches,
        |v| v.name.to_string(),
        |v| format!("{} ({})", v.name, v.id),
    )?;
    Ok(v.id)
}

pub async fn appointment_type(app: &App, text: &str) -> Result<AppointmentTypeId> {
    if let Some(id) = uuid(text) {
        return Ok(AppointmentTypeId(id));
    }
    let n = needle("appointment type", text)?;
    let matches = app
        .appointment_types()
        .await?
        .into_iter()
        .filter(|t| t.name.as_str().to_lowercase().contains(&n))
        .collect();
    let t = choose(
        "appointment type",
        "appointment types",
        text,
        matches,
        |t| t.name.to_string(),
        |t| format!("{} ({})", t.name, t.id),
    )?;
    Ok(t.id)
}

/// An owner by id, or by part of their name, email address or phone number.
pub async fn client(app: &App, text: &str) -> Result<ClientId> {
    if let Some(id) = uuid(text) {
        return Ok(ClientId(id));
    }
    needle("owner", text)?;
    let matches = app.search_clients(Some(text.trim()), LOOKUP_LIMIT).await?;
    let c = choose(
        "owner",
        "owners",
        text,
        matches,
        |c| c.name.to_string(),
        |c| match &c.email {
            Some(e) => format!("{} <{e}> ({})", c.name, c.id),
            None => format!("{} ({})", c.name, c.id),
        },
    )?;
    Ok(c.id)
}

/// A pet by id, or by part of its name (among one owner's pets when given).
pub async fn pet(app: &App, owner: Option<ClientId>, text: &str) -> Result<PetId> {
    if let Some(id) = uuid(text) {
        return Ok(PetId(id));
    }
    needle("pet", text)?;
    let matches = app.pets(owner, Some(text.trim()), LOOKUP_LIMIT).await?;
    // Name the owners of the candidates an ambiguity message would show.
    let mut owners = std::collections::HashMap::new();
    if matches.len() > 1 {
        for p in matches.iter().take(SHOWN) {
            if let std::collections::hash_map::Entry::Vacant(e) = owners.entry(p.owner) {
                let name = app
                    .client(p.owner)
                    .await
                    .map(|c| c.name.to_string())
                    .unwrap_or_default();
                e.insert(name);
            }
        }
    }
    let what = if owner.is_some() {
        "pet of that owner"
    } else {
        "pet"
    };
    let p = choose(
        what,
        "pets",
        text,
        matches,
        |p| p.name.to_string(),
        |p| {
            let owner = owners.get(&p.owner).map(String::as_str).unwrap_or("?");
            format!("{} ({}, owner {owner}, {})", p.name, p.species, p.id)
        },
    )?;
    Ok(p.id)
}

/// Names already resolved, and what they resolved to (a failure too): a file
/// for `vetdesk import` names the same few clinics, vets, types and pets on
/// thousands of lines, and each lookup reads the store. One command's worth;
/// a single `book` starts with an empty one.
#[derive(Default)]
pub struct Names {
    clinics: HashMap<String, Result<ClinicId>>,
    vets: HashMap<String, Result<VetId>>,
    types: HashMap<String, Result<AppointmentTypeId>>,
    clients: HashMap<String, Result<ClientId>>,
    pets: HashMap<(Option<ClientId>, String), Result<PetId>>,
}

/// The answer kept under `key`, or what `look` answers: kept when it is
/// final (a record, none, or several), not when the store failed to answer.
async fn remembered<K: Eq + Hash, T: Clone>(
    memo: &mut HashMap<K, Result<T>>,
    key: K,
    look: impl Future<Output = Result<T>>,
) -> Result<T> {
    if let Some(answer) = memo.get(&key) {
        return answer.clone();
    }
    let answer = look.await;
    let is_final = match &answer {
        Ok(_) => true,
        Err(f) => matches!(f.code, ErrorCode::NotFound | ErrorCode::InvalidInput),
    };
    if is_final {
        memo.insert(key, answer.clone());
    }
    answer
}

impl Names {
    pub async fn clinic(&mut self, app: &App, text: &str) -> Result<ClinicId> {
        remembered(&mut self.clinics, text.to_string(), clinic(app, text)).await
    }
    pub async fn vet(&mut self, app: &App, text: &str) -> Result<VetId> {
        remembered(&mut self.vets, text.to_string(), vet(app, text)).await
    }
    pub async fn appointment_type(&mut self, app: &App, text: &str) -> Result<AppointmentTypeId> {
        let look = appointment_type(app, text);
        remembered(&mut self.types, text.to_string(), look).await
    }
    pub async fn client(&mut self, app: &App, text: &str) -> Result<ClientId> {
        remembered(&mut self.clients, text.to_string(), client(app, text)).await
    }
    pub async fn pet(&mut self, app: &App, owner: Option<ClientId>, text: &str) -> Result<PetId> {
        let key = (owner, text.to_string());
        remembered(&mut self.pets, key, pet(app, owner, text)).await
    }
}

/// Appointments are named by id only.
pub fn appointment(text: &str) -> Result<AppointmentId> {
    uuid(text).map(AppointmentId).ok_or_else(|| {
        Failure::from(vetdesk_core::ValidationError::MalformedId {
            kind: "appointment id",
            value: text.to_string(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(text: &str, names: &[&str]) -> Result<String> {
        let n = text.to_lowercase();
        let matches: Vec<String> = names
            .iter()
            .filter(|s| s.to_lowercase().contains(&n))
            .map(|s| (*s).to_string())
            .collect();
        choose("vet", "vets", text, matches, Clone::clone, Clone::clone)
    }

    #[test]
    fn a_unique_part_of_a_name_is_enough() {
        assert_eq!(
            pick("alice", &["Dr Alice Morgan", "Dr Ben Okafor"])
                .ok()
                .as_deref(),
            Some("Dr Alice Morgan")
        );
    }

    #[test]
    fn an_exact_name_beats_longer_ones() {
        let names = ["Surgery", "Surgery follow-up"];
        assert_eq!(pick("surgery", &names).ok().as_deref(), Some("Surgery"));
    }

    #[test]
    fn no_match_is_not_found_and_several_are_invalid() {
        let names = ["Dr Alice Morgan", "Dr Ben Okafor"];
        let none = pick("zed", &names).err().map(|f| f.code);
        assert_eq!(none, Some(ErrorCode::NotFound));
        let many = pick("dr", &names).err();
        assert_eq!(many.as_ref().map(|f| f.code), Some(ErrorCode::InvalidInput));
        let message = many.map(|f| f.message).unwrap_or_default();
        assert!(
            message.contains("Dr Alice Morgan") && message.contains("Dr Ben Okafor"),
            "{message}"
        );
    }
}
