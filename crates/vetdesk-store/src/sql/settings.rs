//! Message templates and each clinic's notification settings.

use super::records::with_meta;
use super::rows::corrupt;
use super::write::refusal;
use super::{args, Cols, Dialect, SqlTx};
use crate::{Entity, Result, StoredSettings, StoredTemplate, Write};
use std::str::FromStr;
use vetdesk_core::*;

fn template<D: Dialect>(r: Cols<'_, D>) -> Result<StoredTemplate> {
    Ok(StoredTemplate {
        template: Template {
            kind: MessageKind::from_str(r.text("kind")?).map_err(corrupt)?,
            channel: MessageChannel::from_str(r.text("channel")?).map_err(corrupt)?,
            subject: r.opt_string("subject")?,
            body: r.string("body")?,
        },
        updated_by: r.string("updated_by")?,
        meta: r.meta()?,
    })
}

fn settings<D: Dialect>(r: Cols<'_, D>) -> Result<StoredSettings> {
    let minute = |col| {
        r.opt_int(col)?
            .map(|v| u16::try_from(v).map_err(corrupt))
            .transpose()
    };
    let quiet = match (minute("quiet_start_min")?, minute("quiet_end_min")?) {
        (Some(a), Some(b)) => Some(QuietHours::new(a, b).map_err(corrupt)?),
        _ => None,
    };
    let heads_up = r
        .opt_int("staff_heads_up_min")?
        .map(u32::try_from)
        .transpose()
        .map_err(corrupt)?;
    let offsets = r
        .text("reminder_offsets")?
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<u32>().map_err(corrupt))
        .collect::<Result<Vec<_>>>()?;
    Ok(StoredSettings {
        clinic_id: ClinicId(r.uuid("clinic_id")?),
        settings: NotificationSettings::new(offsets, quiet, heads_up).map_err(corrupt)?,
        meta: r.meta()?,
    })
}

/// An upsert keyed by `key` (not `id`) at the version read: `key` and
/// `cols` bound as `$1…$n`, the version read as `$n+1`.
fn keyed_upsert(table: &str, key: &[&str], cols: &[&str]) -> String {
    let all: Vec<&str> = key.iter().chain(cols).copied().collect();
    let placeholders: Vec<String> = (1..=all.len()).map(|i| format!("${i}")).collect();
    let set: Vec<String> = cols
        .iter()
        .filter(|c| **c != "created_at")
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!(
        "INSERT INTO {table} ({}) VALUES ({}) ON CONFLICT ({}) DO UPDATE SET {} \
         WHERE {table}.version = ${}",
        all.join(", "),
        placeholders.join(", "),
        key.join(", "),
        set.join(", "),
        all.len() + 1
    )
}

impl<D: Dialect> SqlTx<D> {
    pub(crate) async fn templates(&mut self) -> Result<Vec<StoredTemplate>> {
        let sql = "SELECT * FROM message_templates ORDER BY kind, channel";
        self.all(sql, args![], template).await
    }

    pub(crate) async fn save_template(&mut self, t: &StoredTemplate, how: Write) -> Result<()> {
        let sql = keyed_upsert(
            "message_templates",
            &["kind", "channel"],
            &[
                "subject",
                "body",
                "version",
                "created_at",
                "updated_at",
                "updated_by",
            ],
        );
        let (kind, channel) = (t.template.kind.as_str(), t.template.channel.as_str());
        let values = args![
            kind,
            channel,
            t.template.subject.as_deref(),
            t.template.body.as_str()
        ];
        let mut values = with_meta(values, &t.meta, None);
        values.extend(args![t.updated_by.as_str(), super::expected(how)]);
        if self.exec(&sql, values).await? == 1 {
            return Ok(());
        }
        let sql = "SELECT version FROM message_templates WHERE kind = $1 AND channel = $2";
        let actual = self
            .one(sql, args![kind, channel], |r| r.int("version"))
            .await?;
        let id = format!("{}/{}", t.template.kind, t.template.channel);
        let current = actual.map(|v| (v, false));
        Err(refusal(Entity::MessageTemplate, id, how, current))
    }

    pub(crate) async fn delete_template(
        &mut self,
        kind: MessageKind,
        channel: MessageChannel,
    ) -> Result<bool> {
        let sql = "DELETE FROM message_templates WHERE kind = $1 AND channel = $2";
        Ok(self
            .exec(sql, args![kind.as_str(), channel.as_str()])
            .await?
            == 1)
    }

    pub(crate) async fn notification_settings(
        &mut self,
        clinic: ClinicId,
    ) -> Result<Option<StoredSettings>> {
        let sql = "SELECT * FROM notification_settings WHERE clinic_id = $1";
        self.one(sql, args![clinic.0], settings).await
    }

    pub(crate) async fn save_notification_settings(
        &mut self,
        s: &StoredSettings,
        how: Write,
    ) -> Result<()> {
        let sql = keyed_upsert(
            "notification_settings",
            &["clinic_id"],
            &[
                "reminder_offsets",
                "quiet_start_min",
                "quiet_end_min",
                "staff_heads_up_min",
                "version",
                "created_at",
                "updated_at",
            ],
        );
        let q = s.settings.quiet_hours;
        let offsets: Vec<String> = s
            .settings
            .reminder_offsets_min
            .iter()
            .map(u32::to_string)
            .collect();
        let values = args![
            s.clinic_id.0,
            offsets.join(","),
            q.map(|q| i64::from(q.start_min())),
            q.map(|q| i64::from(q.end_min())),
            s.settings.staff_heads_up_min.map(i64::from)
        ];
        let mut values = with_meta(values, &s.meta, None);
        values.push(super::expected(how).into());
        if self.exec(&sql, values).await? == 1 {
            return Ok(());
        }
        let sql = "SELECT version FROM notification_settings WHERE clinic_id = $1";
        let actual = self
            .one(sql, args![s.clinic_id.0], |r| r.int("version"))
            .await?;
        let id = s.clinic_id.to_string();
        let current = actual.map(|v| (v, false));
        Err(refusal(Entity::NotificationSettings, id, how, current))
    }
}
