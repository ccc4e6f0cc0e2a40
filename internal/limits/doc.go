// Package limits enforces the self-hosted limits of Lumina: the daily trace quota per
// project (Quota, counted in-process by Memory or across processes by Redis) and trace
// retention (Retention, run by one process at a time behind a Lease).
//
// The quota counts distinct traces per project and UTC day. A trace is admitted the first
// time one of its spans arrives while the project is under its limit; every later span of an
// admitted trace is accepted whatever the count, so traces in flight at the limit complete.
package limits
