//! Clubs and their members: `impl ClubStore` for each backend, from the SQL both accept.

macro_rules! impl_clubs {
    ($ty:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::ClubStore for $ty {
            #[tracing::instrument(skip_all)]
            async fn club_members(&self, guild_id: &str) -> StoreResult<Vec<(UserId, bool)>> {
                let rows = sqlx::query("SELECT user_id, leaderboard_opt_in FROM club_members WHERE guild_id = $1 ORDER BY user_id")
                    .bind(guild_id)
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(|r| Ok((UserId(r.try_get("user_id")?), r.try_get("leaderboard_opt_in")?))).collect()
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn join_club(&self, id: UserId, guild_id: &str, opt_in: bool) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO club_members (guild_id, user_id, leaderboard_opt_in, joined_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (guild_id, user_id) DO UPDATE SET leaderboard_opt_in = excluded.leaderboard_opt_in",
                )
                .bind(guild_id)
                .bind(id.0)
                .bind(opt_in)
                .bind(Utc::now())
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(user = %id))]
            async fn leave_club(&self, id: UserId, guild_id: &str) -> StoreResult<bool> {
                let done = sqlx::query("DELETE FROM club_members WHERE guild_id = $1 AND user_id = $2")
                    .bind(guild_id)
                    .bind(id.0)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }
        }
    };
}

pub(crate) use impl_clubs;
