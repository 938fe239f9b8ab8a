//! The in-memory fake of health and counters.

use super::*;

#[async_trait]
impl SystemRepository for System {
    async fn ping(&self) -> DomainResult<()> {
        Ok(())
    }

    async fn global_stats(&self) -> DomainResult<GlobalStats> {
        let s = self.0.lock();
        let jobs = |st: JobStatus| s.jobs.values().filter(|j| j.status == st).count() as i64;
        Ok(GlobalStats {
            users: s.users.len() as i64,
            active_users: s.users.values().filter(|u| u.is_active).count() as i64,
            content: s.content.len() as i64,
            public_content: s.content.values().filter(|c| c.is_listed_publicly()).count() as i64,
            private_content: s.content.values().filter(|c| c.is_private).count() as i64,
            interactions: s.interactions.len() as i64,
            recommendations: s.recommendations.len() as i64,
            served_recommendations: s.recommendations.values().filter(|r| r.is_served).count() as i64,
            jobs: s.jobs.len() as i64,
            running_jobs: jobs(JobStatus::Running),
            completed_jobs: jobs(JobStatus::Completed),
            failed_jobs: jobs(JobStatus::Failed),
        })
    }

    async fn info(&self) -> DomainResult<StoreInfo> {
        let s = self.0.lock();
        Ok(StoreInfo {
            migration_version: None,
            approximate_rows: vec![
                ("users".into(), s.users.len() as i64),
                ("content_items".into(), s.content.len() as i64),
                ("user_interactions".into(), s.interactions.len() as i64),
                ("recommendations".into(), s.recommendations.len() as i64),
                ("generation_jobs".into(), s.jobs.len() as i64),
            ],
        })
    }
}
