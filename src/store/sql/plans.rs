//! Goals and plans: `impl PlanStore` for each backend, from the SQL both accept.

macro_rules! impl_plans {
    ($ty:ty, $db:ty) => {
        async fn insert_workouts(
            tx: &mut sqlx::Transaction<'static, $db>,
            user: i64,
            plan_id: i64,
            workouts: &[$crate::store::NewPlannedWorkout],
        ) -> StoreResult<()> {
            for w in workouts {
                sqlx::query(
                    "INSERT INTO planned_workouts (plan_id, user_id, week_index, date, kind, duration_min, \
                       distance_km, pace_min_s, pace_max_s, hr_zone, description_fr, description_en, status) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                )
                .bind(plan_id)
                .bind(user)
                .bind(w.week_index)
                .bind(w.date)
                .bind(&w.kind)
                .bind(w.duration_min)
                .bind(w.distance_km)
                .bind(w.pace_min_s)
                .bind(w.pace_max_s)
                .bind(w.hr_zone)
                .bind(&w.description_fr)
                .bind(&w.description_en)
                .bind(w.status.as_str())
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        }
        async fn replace_plan(
            tx: &mut sqlx::Transaction<'static, $db>,
            user: i64,
            plan_id: i64,
            plan: &NewPlan,
        ) -> StoreResult<()> {
            let done = sqlx::query(
                "UPDATE plans SET plan = $3, end_date = $4, race_date = $5, vdot = $6 \
                 WHERE id = $2 AND user_id = $1",
            )
            .bind(user)
            .bind(plan_id)
            .bind(&plan.plan)
            .bind(plan.end_date)
            .bind(plan.race_date)
            .bind(plan.vdot)
            .execute(&mut **tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            sqlx::query("DELETE FROM planned_workouts WHERE plan_id = $1 AND user_id = $2")
                .bind(plan_id)
                .bind(user)
                .execute(&mut **tx)
                .await?;
            insert_workouts(tx, user, plan_id, &plan.workouts).await
        }
        #[async_trait::async_trait]
        impl $crate::store::PlanStore for $ty {
            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn insert_goal(&self, id: UserId, goal: &NewGoal) -> StoreResult<i64> {
                // RETURNING committed explicitly (see update_profile).
                let mut tx = self.begin_write().await?;
                let (km, time_s) = match goal.spec.target {
                    $crate::goal::GoalTarget::Race { distance_m, time_s } => (distance_m / 1000.0, Some(time_s)),
                    $crate::goal::GoalTarget::Volume { km } => (km, None),
                };
                let value = sqlx::query_scalar(
                    "INSERT INTO goals (user_id, kind, target_km, target_date, target_time_s, note, status, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                )
                .bind(id.0)
                .bind(goal.spec.target.kind())
                .bind(km)
                .bind(goal.spec.deadline)
                .bind(time_s)
                .bind(&goal.note)
                .bind($crate::store::GoalStatus::Active.as_str())
                .bind(Utc::now())
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(value)
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn goals(&self, id: UserId) -> StoreResult<Vec<$crate::store::GoalRecord>> {
                let rows: Vec<(i64, String, Option<f64>, Option<chrono::NaiveDate>, Option<f64>, String, DateTime<Utc>)> =
                    sqlx::query_as(
                        "SELECT id, kind, target_km, target_date, target_time_s, status, created_at FROM goals \
                         WHERE user_id = $1 ORDER BY id DESC",
                    )
                    .bind(id.0)
                    .fetch_all(&self.pool)
                    .await?;
                let mut out = Vec::with_capacity(rows.len());
                for (goal_id, kind, km, deadline, time_s, status, created_at) in rows {
                    let target = match (kind.as_str(), km, time_s) {
                        ("race", Some(km), Some(time_s)) => {
                            Some($crate::goal::GoalTarget::Race { distance_m: km * 1000.0, time_s })
                        }
                        ("volume", Some(km), _) => Some($crate::goal::GoalTarget::Volume { km }),
                        _ => None,
                    };
                    let (Some(target), Some(status)) = (target, $crate::store::GoalStatus::parse(&status)) else {
                        tracing::warn!(goal = goal_id, %kind, "a goal row this version does not read: left out");
                        continue;
                    };
                    let spec = $crate::goal::GoalSpec { target, deadline };
                    out.push($crate::store::GoalRecord { id: goal_id, spec, status, created_at });
                }
                Ok(out)
            }

            #[tracing::instrument(skip_all, fields(user = %id, goal = goal_id))]
            async fn set_goal_status(
                &self,
                id: UserId,
                goal_id: i64,
                status: $crate::store::GoalStatus,
            ) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query("UPDATE goals SET status = $3 WHERE user_id = $1 AND id = $2")
                    .bind(id.0)
                    .bind(goal_id)
                    .bind(status.as_str())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                Ok(done > 0)
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn archive_plan(&self, id: UserId, plan_id: i64) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE plans SET status = 'archived' WHERE user_id = $1 AND id = $2 AND status = 'active'",
                )
                .bind(id.0)
                .bind(plan_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
                Ok(done > 0)
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn save_plan(&self, id: UserId, plan: &NewPlan) -> StoreResult<i64> {
                let mut tx = self.begin_write().await?;
                sqlx::query("UPDATE plans SET status = 'archived' WHERE user_id = $1 AND status = 'active'")
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
                let plan_id: i64 = sqlx::query_scalar(
                    "INSERT INTO plans (user_id, goal, level, status, start_date, end_date, race_date, \
                       sessions_per_week, vdot, request, plan, created_at, goal_id) \
                     VALUES ($1, $2, $3, 'active', $4, $5, $6, $7, $8, $9, $10, $11, \
                       (SELECT id FROM goals WHERE id = $12 AND user_id = $1)) RETURNING id",
                )
                .bind(id.0)
                .bind(plan.goal.as_str())
                .bind(plan.level.label_en())
                .bind(plan.start_date)
                .bind(plan.end_date)
                .bind(plan.race_date)
                .bind(plan.sessions_per_week)
                .bind(plan.vdot)
                .bind(&plan.request)
                .bind(&plan.plan)
                .bind(Utc::now())
                .bind(plan.goal_id)
                .fetch_one(&mut *tx)
                .await?;
                insert_workouts(&mut tx, id.0, plan_id, &plan.workouts).await?;
                tx.commit().await?;
                Ok(plan_id)
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn active_plan(&self, id: UserId) -> StoreResult<Option<$crate::store::StoredPlan>> {
                let row = sqlx::query(
                    "SELECT id, plan, created_at FROM plans WHERE user_id = $1 AND status = 'active' \
                     ORDER BY id DESC LIMIT 1",
                )
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
                row.map(|r| {
                    Ok($crate::store::StoredPlan {
                        id: r.try_get("id")?,
                        plan: r.try_get("plan")?,
                        created_at: r.try_get("created_at")?,
                    })
                })
                .transpose()
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn plans(&self, id: UserId) -> StoreResult<Vec<$crate::store::PlanSummary>> {
                let rows = sqlx::query(
                    "SELECT id, goal, level, status, start_date, end_date, race_date, created_at, goal_id FROM plans \
                     WHERE user_id = $1 ORDER BY id DESC",
                )
                .bind(id.0)
                .fetch_all(&self.pool)
                .await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in &rows {
                    let id: i64 = r.try_get("id")?;
                    let (goal, level, status): (String, String, String) =
                        (r.try_get("goal")?, r.try_get("level")?, r.try_get("status")?);
                    // A row a newer version wrote (a goal this one does not know) is left out of the
                    // list, not a failure of it.
                    let (Ok(goal), Ok(level), Some(status)) = (
                        goal.parse::<$crate::plan::Goal>(),
                        level.parse::<$crate::plan::Level>(),
                        $crate::store::PlanStatus::parse(&status),
                    ) else {
                        tracing::warn!(plan = id, %goal, %level, %status, "a plan row this version does not read: left out");
                        continue;
                    };
                    out.push($crate::store::PlanSummary {
                        id,
                        goal,
                        level,
                        status,
                        start_date: r.try_get("start_date")?,
                        end_date: r.try_get("end_date")?,
                        race_date: r.try_get("race_date")?,
                        created_at: r.try_get("created_at")?,
                        goal_id: r.try_get("goal_id")?,
                    });
                }
                Ok(out)
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn update_plan(&self, id: UserId, plan_id: i64, plan: &NewPlan) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                replace_plan(&mut tx, id.0, plan_id, plan).await?;
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn adapt_plan(
                &self,
                id: UserId,
                plan_id: i64,
                plan: &NewPlan,
                as_it_was: &serde_json::Value,
                at: DateTime<Utc>,
            ) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                replace_plan(&mut tx, id.0, plan_id, plan).await?;
                sqlx::query("UPDATE plans SET plan_as_it_was = $3, adapted_at = $4 WHERE id = $2 AND user_id = $1")
                    .bind(id.0)
                    .bind(plan_id)
                    .bind(as_it_was)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn take_plan_as_it_was(
                &self,
                id: UserId,
                plan_id: i64,
            ) -> StoreResult<Option<(serde_json::Value, DateTime<Utc>)>> {
                let mut tx = self.begin_write().await?;
                let row = sqlx::query(
                    "SELECT plan_as_it_was, adapted_at FROM plans \
                     WHERE id = $2 AND user_id = $1 AND plan_as_it_was IS NOT NULL",
                )
                .bind(id.0)
                .bind(plan_id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else {
                    return Ok(None);
                };
                let value: serde_json::Value = row.try_get("plan_as_it_was")?;
                let at: DateTime<Utc> = row.try_get("adapted_at")?;
                // Two presses at once: only the one whose update still finds it takes it.
                let taken = sqlx::query(
                    "UPDATE plans SET plan_as_it_was = NULL, adapted_at = NULL \
                     WHERE id = $2 AND user_id = $1 AND plan_as_it_was IS NOT NULL",
                )
                .bind(id.0)
                .bind(plan_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
                Ok((taken > 0).then_some((value, at)))
            }
        }
    };
}

pub(crate) use impl_plans;
