//! Message templates and each clinic's notification settings.

use super::records::with_meta;
use super::rows::corrupt;
use super::write::refusal;
use super::{args, Cols, Dialect, SqlTx};
use crate::{ChangeOp, Entity, Result, StoredSettings, StoredTemplate, Write};
use chrono::{DateTime, Utc};
use std::str::FromStr;
use uuid::Uuid;
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

/// The id a template's changes are logged under, derived from its key (kind
/// and channel): the same on every engine and every machine, for good.
pub fn template_id(kind: MessageKind, channel: MessageChannel) -> Uuid {
    let key = format!("message_template/{kind}/{channel}");
    // FNV-1a, twice with different offsets: 128 stable bits.
    let fnv = |offset: u64| {
        key.bytes().fold(offset, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&fnv(0xcbf2_9ce4_8422_2325).to_be_bytes());
    bytes[8..].copy_from_slice(&fnv(0x8422_2325_cbf2_9ce4).to_be_bytes());
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

impl<D: Dialect> SqlTx<D> {
    pub(crate) async fn templates(&mut self) -> Result<Vec<StoredTemplate>> {
        let sql = "SELECT * FROM message_templates WHERE deleted_at IS NULL ORDER BY kind, channel";
        self.all(sql, args![], template).await
    }

    /// An insert may take the place of a reset (tombstoned) template, one
    /// version past it; an update must find it live at the version read.
    #[tracing::instrument(skip_all, fields(kind = %t.template.kind, channel = %t.template.channel))]
    pub(crate) async fn save_template(&mut self, t: &StoredTemplate, how: Write) -> Result<i64> {
        let (kind, channel) = (t.template.kind, t.template.channel);
        let values = args![
            kind.as_str(),
            channel.as_str(),
            t.template.subject.as_deref(),
            t.template.body.as_str()
        ];
        let mut values = with_meta(values, &t.meta, None);
        values.extend(args![t.updated_by.as_str(), super::expected(how)]);
        let saved = self
            .one(
                "INSERT INTO message_templates (kind, channel, subject, body, version, created_at, \
                 updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (kind, channel) DO UPDATE SET subject = excluded.subject, \
                 body = excluded.body, updated_at = excluded.updated_at, \
                 updated_by = excluded.updated_by, deleted_at = NULL, \
                 version = CASE WHEN message_templates.deleted_at IS NULL THEN excluded.version \
                 ELSE message_templates.version + 1 END \
                 WHERE (message_templates.deleted_at IS NULL AND message_templates.version = $9) \
                 OR (message_templates.deleted_at IS NOT NULL AND $9 = -1) \
                 RETURNING version",
                values,
                |r| r.int("version"),
            )
            .await?;
        let id = template_id(kind, channel);
        let Some(version) = saved else {
            let sql = "SELECT version, deleted_at FROM message_templates WHERE kind = $1 AND channel = $2";
            let current = self
                .one(sql, args![kind.as_str(), channel.as_str()], |r| {
                    Ok((r.int("version")?, r.opt_instant("deleted_at")?.is_some()))
                })
                .await?;
            let key = format!("{kind}/{channel}");
            return Err(refusal(Entity::MessageTemplate, key, how, current));
        };
        let op = match how {
            Write::Insert => ChangeOp::Insert,
            Write::Update { .. } => ChangeOp::Update,
        };
        let at = t.meta.updated_at;
        self.log_change(Entity::MessageTemplate, id, None, version, op, at)
            .await?;
        Ok(version)
    }

    #[tracing::instrument(skip_all, fields(kind = %kind, channel = %channel))]
    pub(crate) async fn delete_template(
        &mut self,
        kind: MessageKind,
        channel: MessageChannel,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let version = self
            .one(
                "UPDATE message_templates SET deleted_at = $1, updated_at = $1, version = version + 1 \
                 WHERE kind = $2 AND channel = $3 AND deleted_at IS NULL RETURNING version",
                args![at, kind.as_str(), channel.as_str()],
                |r| r.int("version"),
            )
            .await?;
        let Some(version) = version else {
            return Ok(false);
        };
        let id = template_id(kind, channel);
        self.log_change(
            Entity::MessageTemplate,
            id,
            None,
            version,
            ChangeOp::Delete,
            at,
        )
        .await?;
        Ok(true)
    }

    pub(crate) async fn notification_settings(
        &mut self,
        clinic: ClinicId,
    ) -> Result<Option<StoredSettings>> {
        let sql = "SELECT * FROM notification_settings WHERE clinic_id = $1 AND deleted_at IS NULL";
        self.one(sql, args![clinic.0], settings).await
    }

    /// A clinic's settings, keyed by the clinic (their change is logged under its id).
    #[tracing::instrument(skip_all, fields(clinic = %s.clinic_id))]
    pub(crate) async fn save_notification_settings(
        &mut self,
        s: &StoredSettings,
        how: Write,
    ) -> Result<()> {
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
        let rows = self
            .exec(
                "INSERT INTO notification_settings (clinic_id, reminder_offsets, quiet_start_min, \
                 quiet_end_min, staff_heads_up_min, version, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (clinic_id) DO UPDATE SET \
                 reminder_offsets = excluded.reminder_offsets, \
                 quiet_start_min = excluded.quiet_start_min, quiet_end_min = excluded.quiet_end_min, \
                 staff_heads_up_min = excluded.staff_heads_up_min, version = excluded.version, \
                 updated_at = excluded.updated_at \
                 WHERE notification_settings.version = $9 AND notification_settings.deleted_at IS NULL",
                values,
            )
            .await?;
        let entity = Entity::NotificationSettings;
        if rows != 1 {
            let sql = "SELECT version, deleted_at FROM notification_settings WHERE clinic_id = $1";
            let current = self
                .one(sql, args![s.clinic_id.0], |r| {
                    Ok((r.int("version")?, r.opt_instant("deleted_at")?.is_some()))
                })
                .await?;
            return Err(refusal(entity, s.clinic_id.to_string(), how, current));
        }
        let clinic = Some(s.clinic_id);
        self.saved(rows, entity, s.clinic_id.0, clinic, &s.meta, how)
            .await
    }
}
