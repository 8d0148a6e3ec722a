//! Activities, laps and samples: `impl ActivityStore` for each backend, from the SQL both accept.

macro_rules! impl_activities {
    ($ty:ty, $db:ty) => {
        /// The stored activity `a` would duplicate: same source and external id, or the same
        /// recording (see `sql::same_activity`).
        async fn duplicate_of(
            conn: &mut <$db as sqlx::Database>::Connection,
            user: i64,
            a: &NewActivity,
        ) -> StoreResult<Option<i64>> {
            if let Some(ext) = &a.external_id {
                let existing: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM activities WHERE user_id = $1 AND source = $2 AND external_id = $3",
                )
                .bind(user)
                .bind(&a.source)
                .bind(ext)
                .fetch_optional(&mut *conn)
                .await?;
                if existing.is_some() {
                    return Ok(existing);
                }
            }
            let (from, to) = sql::start_window(a.start_time);
            let candidates = sqlx::query(
                "SELECT id, start_time, duration_s, distance_m FROM activities \
                 WHERE user_id = $1 AND start_time >= $2 AND start_time <= $3",
            )
            .bind(user)
            .bind(from)
            .bind(to)
            .fetch_all(&mut *conn)
            .await?;
            for c in &candidates {
                let start: DateTime<Utc> = c.try_get("start_time")?;
                if sql::same_activity(a, start, c.try_get("duration_s")?, c.try_get("distance_m")?) {
                    return Ok(Some(c.try_get("id")?));
                }
            }
            Ok(None)
        }
        /// One activity, its laps and samples, inside `tx` (validated by the caller); a duplicate
        /// writes nothing.
        async fn insert_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            id: UserId,
            a: &NewActivity,
        ) -> StoreResult<InsertOutcome> {
            if let Some(existing) = duplicate_of(tx, id.0, a).await? {
                return Ok(InsertOutcome::Duplicate(existing));
            }
            Ok(InsertOutcome::Inserted(insert_row(tx, id, a).await?))
        }

        /// Writes one activity, its laps and samples inside `tx`; its id.
        async fn insert_row(
            tx: &mut sqlx::Transaction<'static, $db>,
            id: UserId,
            a: &NewActivity,
        ) -> StoreResult<i64> {
            let blob = match &a.samples {
                Some(s) if !s.is_empty() => {
                    Some(s.encode().map_err(|e| StoreError::Conflict($crate::store::DbDetail::caused_by(e)))?)
                }
                _ => None,
            };
            let activity_id: i64 = sqlx::query_scalar(
                "INSERT INTO activities (user_id, source, external_id, sport, name, start_time, utc_offset_s, \
                       duration_s, moving_s, distance_m, elevation_gain_m, elevation_loss_m, avg_hr, max_hr, \
                       avg_cadence, max_cadence, avg_speed_mps, max_speed_mps, calories, training_load, \
                       aerobic_te, anaerobic_te, vo2max, hr_zones_s, best_efforts, device, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
                       $19, $20, $21, $22, $23, $24, $25, $26, $27) RETURNING id",
            )
            .bind(id.0)
            .bind(&a.source)
            .bind(&a.external_id)
            .bind(a.sport.as_str())
            .bind(&a.name)
            .bind(a.start_time)
            .bind(a.utc_offset_s)
            .bind(a.duration_s)
            .bind(a.moving_s)
            .bind(a.distance_m)
            .bind(a.elevation_gain_m)
            .bind(a.elevation_loss_m)
            .bind(a.avg_hr)
            .bind(a.max_hr)
            .bind(a.avg_cadence)
            .bind(a.max_cadence)
            .bind(a.avg_speed_mps)
            .bind(a.max_speed_mps)
            .bind(a.calories)
            .bind(a.training_load)
            .bind(a.aerobic_te)
            .bind(a.anaerobic_te)
            .bind(a.vo2max)
            .bind(a.hr_zones_s.as_ref().map(|z| serde_json::json!(z)))
            .bind(&a.best_efforts)
            .bind(&a.device)
            .bind(Utc::now())
            .fetch_one(&mut **tx)
            .await?;
            for (index, lap) in a.laps.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO laps (activity_id, user_id, lap_index, start_time, duration_s, distance_m, \
                           avg_hr, max_hr, avg_cadence, avg_speed_mps, intensity) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(activity_id)
                .bind(id.0)
                .bind(i32::try_from(index).unwrap_or(i32::MAX))
                .bind(lap.start_time)
                .bind(lap.duration_s)
                .bind(lap.distance_m)
                .bind(lap.avg_hr)
                .bind(lap.max_hr)
                .bind(lap.avg_cadence)
                .bind(lap.avg_speed_mps)
                .bind(&lap.intensity)
                .execute(&mut **tx)
                .await?;
            }
            if let (Some(blob), Some(series)) = (blob, &a.samples) {
                sqlx::query(
                    "INSERT INTO samples (activity_id, user_id, format, point_count, data) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(activity_id)
                .bind(id.0)
                .bind($crate::domain::samples::FORMAT_V1)
                .bind(i32::try_from(series.len()).unwrap_or(i32::MAX))
                .bind(blob)
                .execute(&mut **tx)
                .await?;
            }
            Ok(activity_id)
        }

        #[async_trait::async_trait]
        impl $crate::store::ActivityStore for $ty {
            #[tracing::instrument(skip_all, fields(user = %id, source = %a.source))]
            async fn insert_activity(&self, id: UserId, a: &NewActivity) -> StoreResult<InsertOutcome> {
                sql::validate_activity(a)?;
                let mut tx = self.begin_write().await?;
                let outcome = insert_in(&mut tx, id, a).await?;
                if matches!(outcome, InsertOutcome::Inserted(_)) {
                    tx.commit().await?;
                }
                Ok(outcome)
            }

            #[tracing::instrument(skip_all, fields(user = %id, count = activities.len()))]
            async fn insert_activities(
                &self,
                id: UserId,
                activities: &[&NewActivity],
            ) -> StoreResult<Vec<StoreResult<InsertOutcome>>> {
                let mut out = Vec::with_capacity(activities.len());
                // Whole activities in batches: one commit per batch, so a killed import leaves the
                // batches before it, each activity whole, and a re-run skips them as duplicates.
                for batch in activities.chunks($crate::store::INSERT_BATCH) {
                    let mut tx = self.begin_write().await?;
                    // What the batch could duplicate, read once rather than twice per activity
                    // (the same rules as `duplicate_of`): the runner's external ids, and the
                    // activities starting in the batch's time span.
                    let starts = batch.iter().map(|a| a.start_time);
                    let (Some(first), Some(last)) = (starts.clone().min(), starts.max()) else { continue };
                    let (from, _) = sql::start_window(first);
                    let (_, to) = sql::start_window(last);
                    let mut known: Vec<(i64, String, Option<String>, Option<(DateTime<Utc>, f64, Option<f64>)>)> =
                        Vec::new();
                    let with_ids: Vec<(i64, String, String)> = sqlx::query_as(
                        "SELECT id, source, external_id FROM activities WHERE user_id = $1 AND external_id IS NOT NULL",
                    )
                    .bind(id.0)
                    .fetch_all(&mut *tx)
                    .await?;
                    known.extend(with_ids.into_iter().map(|(k, src, ext)| (k, src, Some(ext), None)));
                    let near: Vec<(i64, DateTime<Utc>, f64, Option<f64>)> = sqlx::query_as(
                        "SELECT id, start_time, duration_s, distance_m FROM activities \
                         WHERE user_id = $1 AND start_time >= $2 AND start_time <= $3",
                    )
                    .bind(id.0)
                    .bind(from)
                    .bind(to)
                    .fetch_all(&mut *tx)
                    .await?;
                    known.extend(near.into_iter().map(|(k, at, d, m)| (k, String::new(), None, Some((at, d, m)))));
                    for a in batch {
                        // An invalid activity is refused alone; the others go in.
                        if let Err(e) = sql::validate_activity(a) {
                            out.push(Err(e));
                            continue;
                        }
                        let dup = known.iter().find(|(_, src, ext, rec)| {
                            let same_id = matches!((ext, &a.external_id), (Some(x), Some(y)) if x == y && *src == a.source);
                            let same_run = rec.is_some_and(|(at, d, m)| {
                                let (lo, hi) = sql::start_window(a.start_time);
                                at >= lo && at <= hi && sql::same_activity(a, at, d, m)
                            });
                            same_id || same_run
                        });
                        match dup {
                            Some((existing, ..)) => out.push(Ok(InsertOutcome::Duplicate(*existing))),
                            None => {
                                let new_id = insert_row(&mut tx, id, a).await?;
                                known.push((
                                    new_id,
                                    a.source.clone(),
                                    a.external_id.clone(),
                                    Some((a.start_time, a.duration_s, a.distance_m)),
                                ));
                                out.push(Ok(InsertOutcome::Inserted(new_id)));
                            }
                        }
                    }
                    tx.commit().await?;
                }
                Ok(out)
            }

            #[tracing::instrument(skip_all, fields(user = %id, source = %a.source))]
            async fn duplicate_activity(&self, id: UserId, a: &NewActivity) -> StoreResult<Option<i64>> {
                let mut conn = self.pool.acquire().await?;
                duplicate_of(&mut conn, id.0, a).await
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn activities(&self, id: UserId, since: Option<DateTime<Utc>>) -> StoreResult<Vec<ActivityRecord>> {
                let sql = sqlx::AssertSqlSafe(format!(
                    "SELECT {} FROM activities WHERE user_id = $1 AND start_time >= $2 ORDER BY start_time",
                    sql::ACTIVITY_COLS
                ));
                let rows = sqlx::query(sql)
                    .bind(id.0)
                    .bind(since.unwrap_or(DateTime::<Utc>::UNIX_EPOCH))
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(|r| Ok(<sql::ActivityRow as sqlx::FromRow<_>>::from_row(r)?.into())).collect()
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn activity_samples(&self, id: UserId, activity_id: i64) -> StoreResult<Option<SampleSeries>> {
                let blob: Option<Vec<u8>> =
                    sqlx::query_scalar("SELECT data FROM samples WHERE activity_id = $1 AND user_id = $2")
                        .bind(activity_id)
                        .bind(id.0)
                        .fetch_optional(&self.pool)
                        .await?;
                blob.map(|b| {
                    SampleSeries::decode(&b).map_err(|e| StoreError::Corrupt($crate::store::DbDetail::caused_by(e)))
                })
                .transpose()
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn recent_activities(&self, id: UserId, limit: i64) -> StoreResult<Vec<ActivityRecord>> {
                let sql = sqlx::AssertSqlSafe(format!(
                    "SELECT {} FROM activities WHERE user_id = $1 ORDER BY start_time DESC, id DESC LIMIT $2",
                    sql::ACTIVITY_COLS
                ));
                let rows = sqlx::query(sql).bind(id.0).bind(limit).fetch_all(&self.pool).await?;
                rows.iter().map(|r| Ok(<sql::ActivityRow as sqlx::FromRow<_>>::from_row(r)?.into())).collect()
            }

            #[tracing::instrument(skip_all, fields(user = %id, activity = activity_id))]
            async fn activity(&self, id: UserId, activity_id: i64) -> StoreResult<Option<ActivityRecord>> {
                let sql = sqlx::AssertSqlSafe(format!(
                    "SELECT {} FROM activities WHERE user_id = $1 AND id = $2",
                    sql::ACTIVITY_COLS
                ));
                let row = sqlx::query(sql).bind(id.0).bind(activity_id).fetch_optional(&self.pool).await?;
                row.map(|r| Ok(<sql::ActivityRow as sqlx::FromRow<_>>::from_row(&r)?.into())).transpose()
            }

            #[tracing::instrument(skip_all, fields(user = %id, activity = activity_id))]
            async fn activity_laps(&self, id: UserId, activity_id: i64) -> StoreResult<Vec<$crate::store::NewLap>> {
                type LapRow = (
                    DateTime<Utc>,
                    f64,
                    Option<f64>,
                    Option<f64>,
                    Option<f64>,
                    Option<f64>,
                    Option<f64>,
                    Option<String>,
                );
                let rows: Vec<LapRow> = sqlx::query_as(
                    "SELECT start_time, duration_s, distance_m, avg_hr, max_hr, avg_cadence, avg_speed_mps, intensity \
                     FROM laps WHERE user_id = $1 AND activity_id = $2 ORDER BY lap_index",
                )
                .bind(id.0)
                .bind(activity_id)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(
                        |(
                            start_time,
                            duration_s,
                            distance_m,
                            avg_hr,
                            max_hr,
                            avg_cadence,
                            avg_speed_mps,
                            intensity,
                        )| {
                            $crate::store::NewLap {
                                start_time,
                                duration_s,
                                distance_m,
                                avg_hr,
                                max_hr,
                                avg_cadence,
                                avg_speed_mps,
                                intensity,
                            }
                        },
                    )
                    .collect())
            }
        }
    };
}

pub(crate) use impl_activities;
