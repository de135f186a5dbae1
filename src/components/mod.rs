pub mod conflicts;
pub mod device_panel;
pub mod household_form;
pub mod login;
pub mod photo_evidence;
pub mod position_field;
pub mod submission;
pub mod sync_badge;
