//! Activities, laps and samples: `impl ActivityStore` for each backend, from the SQL both accept.

macro_rules! impl_activities {
    ($ty:ty, $db:ty) => {
        /// The stored activity `a` would duplicate (the rule: `sql::KnownActivities`).
        async fn duplicate_of(
            conn: &mut <$db as sqlx::Database>::Connection,
            user: i64,
            a: &NewActivity,
        ) -> StoreResult<Option<i64>> {
            let ids: Vec<(i64, String, String)> = match &a.external_id {
                Some(ext) => {
                    sqlx::query_as(
                        "SELECT id, source, external_id FROM activities \
                         WHERE user_id = $1 AND source = $2 AND external_id = $3",
                    )
                    .bind(user)
                    .bind(&a.source)
                    .bind(ext)
                    .fetch_all(&mut *conn)
                    .await?
                }
                None => Vec::new(),
            };
            let (from, to) = sql::start_window(a.start_time);
            let runs = runs_between(conn, user, from, to).await?;
            Ok(sql::KnownActivities::new(ids, runs).duplicate_of(a))
        }

        /// The runner's stored activities starting in `from..=to`: (id, start, duration, distance).
        async fn runs_between(
            conn: &mut <$db as sqlx::Database>::Connection,
            user: i64,
            from: DateTime<Utc>,
            to: DateTime<Utc>,
        ) -> StoreResult<Vec<(i64, DateTime<Utc>, f64, Option<f64>)>> {
            Ok(sqlx::query_as(
                "SELECT id, start_time, duration_s, distance_m FROM activities \
                 WHERE user_id = $1 AND start_time >= $2 AND start_time <= $3",
            )
            .bind(user)
            .bind(from)
            .bind(to)
            .fetch_all(&mut *conn)
            .await?)
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
        async fn insert_row(tx: &mut sqlx::Transaction<'static, $db>, id: UserId, a: &NewActivity) -> StoreResult<i64> {
            let ids = insert_activity_rows(tx, id, &[a]).await?;
            let activity_id =
                ids.first().copied().ok_or_else(|| StoreError::Conflict("insert returned no id".into()))?;
            insert_laps_and_samples(tx, id, activity_id, a).await?;
            Ok(activity_id)
        }

        /// Writes the activity rows of `list` with one statement; their ids, in `list`'s order.
        async fn insert_activity_rows(
            tx: &mut sqlx::Transaction<'static, $db>,
            id: UserId,
            list: &[&NewActivity],
        ) -> StoreResult<Vec<i64>> {
            if list.is_empty() {
                return Ok(Vec::new());
            }
            let now = Utc::now();
            let mut insert = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO activities (user_id, source, external_id, sport, name, start_time, utc_offset_s, \
                   duration_s, moving_s, distance_m, elevation_gain_m, elevation_loss_m, avg_hr, max_hr, \
                   avg_cadence, max_cadence, avg_speed_mps, max_speed_mps, calories, training_load, \
                   aerobic_te, anaerobic_te, vo2max, hr_zones_s, best_efforts, device, created_at) ",
            );
            insert.push_values(list, |mut row, a| {
                row.push_bind(id.0)
                    .push_bind(a.source.clone())
                    .push_bind(a.external_id.clone())
                    .push_bind(a.sport.as_str())
                    .push_bind(a.name.clone())
                    .push_bind(a.start_time)
                    .push_bind(a.utc_offset_s)
                    .push_bind(a.duration_s)
                    .push_bind(a.moving_s)
                    .push_bind(a.distance_m)
                    .push_bind(a.elevation_gain_m)
                    .push_bind(a.elevation_loss_m)
                    .push_bind(a.avg_hr)
                    .push_bind(a.max_hr)
                    .push_bind(a.avg_cadence)
                    .push_bind(a.max_cadence)
                    .push_bind(a.avg_speed_mps)
                    .push_bind(a.max_speed_mps)
                    .push_bind(a.calories)
                    .push_bind(a.training_load)
                    .push_bind(a.aerobic_te)
                    .push_bind(a.anaerobic_te)
                    .push_bind(a.vo2max)
                    .push_bind(a.hr_zones_s.as_ref().map(|z| serde_json::json!(z)))
                    .push_bind(a.best_efforts.clone())
                    .push_bind(a.device.clone())
                    .push_bind(now);
            });
            insert.push(" RETURNING id");
            let mut ids: Vec<i64> = insert.build_query_scalar().fetch_all(&mut **tx).await?;
            if ids.len() != list.len() {
                return Err(StoreError::Conflict(format!("{} ids for {} activities", ids.len(), list.len()).into()));
            }
            // RETURNING's row order is not promised, but both databases give each row of one
            // statement a larger id than the row before it, in VALUES order (SQLite's rowid,
            // PostgreSQL's sequence); ids another session takes in between do not change that.
            ids.sort_unstable();
            Ok(ids)
        }

        /// Writes an activity's laps and samples inside `tx`.
        async fn insert_laps_and_samples(
            tx: &mut sqlx::Transaction<'static, $db>,
            id: UserId,
            activity_id: i64,
            a: &NewActivity,
        ) -> StoreResult<()> {
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
            let blob = match &a.samples {
                Some(samples) if !samples.is_empty() => {
                    Some(samples.encode().map_err(|e| StoreError::Conflict($crate::store::DbDetail::caused_by(e)))?)
                }
                _ => None,
            };
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
            Ok(())
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
                    // What the batch could duplicate, read once rather than per activity.
                    let starts = batch.iter().map(|a| a.start_time);
                    let (Some(first), Some(last)) = (starts.clone().min(), starts.max()) else { continue };
                    let (from, _) = sql::start_window(first);
                    let (_, to) = sql::start_window(last);
                    let ids: Vec<(i64, String, String)> = if batch.iter().any(|a| a.external_id.is_some()) {
                        sqlx::query_as(
                            "SELECT id, source, external_id FROM activities \
                             WHERE user_id = $1 AND external_id IS NOT NULL",
                        )
                        .bind(id.0)
                        .fetch_all(&mut *tx)
                        .await?
                    } else {
                        Vec::new()
                    };
                    let runs = runs_between(&mut tx, id.0, from, to).await?;
                    let mut known = sql::KnownActivities::new(ids, runs);
                    // The batch's new activities, written with one statement. Until then each one
                    // is known under a stand-in id (-1, -2, …) so a later copy in the same list is
                    // still found as its duplicate.
                    let mut fresh: Vec<(usize, &NewActivity)> = Vec::new();
                    let stand_in = |k: usize| -1 - i64::try_from(k).unwrap_or(i64::MAX - 1);
                    let batch_start = out.len();
                    for a in batch {
                        // An invalid activity is refused alone; the others go in.
                        if let Err(e) = sql::validate_activity(a) {
                            out.push(Err(e));
                            continue;
                        }
                        match known.duplicate_of(a) {
                            Some(existing) => out.push(Ok(InsertOutcome::Duplicate(existing))),
                            None => {
                                known.add(stand_in(fresh.len()), a);
                                fresh.push((out.len(), *a));
                                out.push(Ok(InsertOutcome::Inserted(0)));
                            }
                        }
                    }
                    let rows: Vec<&NewActivity> = fresh.iter().map(|(_, a)| *a).collect();
                    let new_ids = insert_activity_rows(&mut tx, id, &rows).await?;
                    for ((slot, a), new_id) in fresh.iter().zip(&new_ids) {
                        insert_laps_and_samples(&mut tx, id, *new_id, a).await?;
                        if let Some(outcome) = out.get_mut(*slot) {
                            *outcome = Ok(InsertOutcome::Inserted(*new_id));
                        }
                    }
                    // This batch's duplicates of a new activity name its real id (a stored id
                    // is positive: `-1 - id` is then no index).
                    for outcome in out.iter_mut().skip(batch_start) {
                        if let Ok(InsertOutcome::Duplicate(existing)) = outcome
                            && let Ok(k) = usize::try_from(-1 - *existing)
                        {
                            *existing = new_ids.get(k).copied().unwrap_or(*existing);
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
