package main

//go:generate sh testdata/descriptors.sh
