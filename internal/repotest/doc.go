// Package repotest holds no code: its tests check the repository itself
// (what .gitignore covers), across both modules of the tree, the root module
// and the modules nested in it.
package repotest
