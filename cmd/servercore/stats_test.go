package main

import (
	"reflect"
	"testing"

	"servercore"
)

// addStats adds every counter, those the library adds later included: each
// numeric field set to 1 on both sides comes out as 2 (SendQueueMax, a
// maximum, as 1).
func TestAddStatsEveryField(t *testing.T) {
	var one servercore.Stats
	setAll(t, reflect.ValueOf(&one).Elem(), "Stats")
	sum := addStats(one, one)
	checkAll(t, reflect.ValueOf(sum), "Stats")
}

func setAll(t *testing.T, v reflect.Value, path string) {
	for i := range v.NumField() {
		f, name := v.Field(i), path+"."+v.Type().Field(i).Name
		switch f.Kind() {
		case reflect.Struct:
			setAll(t, f, name)
		case reflect.Int, reflect.Int64:
			f.SetInt(1)
		case reflect.Uint64:
			f.SetUint(1)
		default:
			t.Fatalf("%s is a %s: teach addStats and this test about it", name, f.Kind())
		}
	}
}

func checkAll(t *testing.T, v reflect.Value, path string) {
	for i := range v.NumField() {
		f, name := v.Field(i), path+"."+v.Type().Field(i).Name
		want := int64(2)
		if name == "Stats.SendQueueMax" {
			want = 1
		}
		switch f.Kind() {
		case reflect.Struct:
			checkAll(t, f, name)
		case reflect.Int, reflect.Int64:
			if f.Int() != want {
				t.Errorf("%s = %d, want %d", name, f.Int(), want)
			}
		case reflect.Uint64:
			if int64(f.Uint()) != want {
				t.Errorf("%s = %d, want %d", name, f.Uint(), want)
			}
		}
	}
}
