pub mod household_form;
pub mod login;
pub mod sync_badge;
