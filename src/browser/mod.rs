//! One browser capability per module, each an options-free `use_…` returning its state.

pub mod back_button;
pub mod camera;
pub mod geolocation;
pub mod service_worker;
pub mod storage_manager;
