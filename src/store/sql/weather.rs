//! Cached weather forecasts: `impl WeatherStore` for each backend, from the SQL both accept.

macro_rules! impl_weather {
    ($ty:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::WeatherStore for $ty {
            #[tracing::instrument(skip_all)]
            async fn cached_forecast(&self, area: &str, hour: DateTime<Utc>) -> StoreResult<Option<String>> {
                Ok(sqlx::query_scalar("SELECT payload FROM weather_forecasts WHERE area = $1 AND fetched_hour = $2")
                    .bind(area)
                    .bind(hour)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            #[tracing::instrument(skip_all)]
            async fn cache_forecast(&self, area: &str, hour: DateTime<Utc>, payload: &str) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO weather_forecasts (area, fetched_hour, payload) VALUES ($1, $2, $3) \
                     ON CONFLICT (area, fetched_hour) DO NOTHING",
                )
                .bind(area)
                .bind(hour)
                .bind(payload)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn purge_forecasts(&self, before: DateTime<Utc>) -> StoreResult<u64> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query("DELETE FROM weather_forecasts WHERE fetched_hour < $1")
                    .bind(before)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                Ok(done)
            }
        }
    };
}

pub(crate) use impl_weather;
