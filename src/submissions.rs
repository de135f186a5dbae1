//! Sending for approval with no signal (gửi duyệt khi có mạng): an officer who finishes a review or an
//! assessment in a village with no network asks for approval at once; the request waits on the
//! device and a later sync sends it, once every change of the device is on the server (the district
//! approves what the server holds, so nothing may still be on its way).

use serde::{Deserialize, Serialize};

use crate::api::{post_json, ApiError};
use crate::storage::{StorageError, Store};
use crate::sync::SyncError;

const META_QUEUED: &str = "queued_submissions";

/// A request for approval waiting for the network: the commune, the period and the data set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Queued {
    pub org_unit: String,
    pub period: String,
    pub data_set: String,
}

/// The requests waiting on the device, oldest first.
pub async fn queued(store: &Store) -> Vec<Queued> {
    store
        .meta::<Vec<Queued>>(META_QUEUED)
        .await
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Keeps a request for the next sync (once only, however often it is asked).
pub async fn queue(store: &Store, request: Queued) -> Result<(), StorageError> {
    store
        .update_meta(META_QUEUED, |list: Option<Vec<Queued>>| {
            let mut list = list.unwrap_or_default();
            if !list.contains(&request) {
                list.push(request);
            }
            list
        })
        .await
}

/// Sends the waiting requests. One the server answered leaves the queue, made or refused (already
/// sent, or not allowed: the panel then shows what the server holds); when the network fails the
/// rest stay for the next sync. Only the answered ones are taken out, so a request queued while
/// these were on their way stays. Returns how many the server answered.
pub async fn send_queued(store: &Store, token: &str) -> Result<usize, SyncError> {
    let list = queued(store).await;
    if list.is_empty() {
        return Ok(0);
    }
    let mut answered = Vec::new();
    let mut reached = true;
    for request in list {
        match post_json::<_, serde_json::Value>("/api/submissions", &request, Some(token), 30_000)
            .await
        {
            Err(ApiError::Unreachable) => {
                reached = false;
                break;
            }
            _ => answered.push(request),
        }
    }
    store
        .update_meta(META_QUEUED, |list: Option<Vec<Queued>>| {
            let mut list = list.unwrap_or_default();
            list.retain(|q| !answered.contains(q));
            list
        })
        .await?;
    if reached {
        Ok(answered.len())
    } else {
        Err(ApiError::Unreachable.into())
    }
}
