// Package organization is the Organization controller: each Fly
// organization gets the namespace its extensions live in, and the whole
// Organization status is this controller's (field manager
// jetway-organization-controller).
package organization
