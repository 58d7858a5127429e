package mmopb

import "testing"

// The ids are the course generator's: C_ and S_ messages numbered from 1000
// in declaration order, so that its clients interoperate.
func TestIDs(t *testing.T) {
	for _, c := range []struct {
		name string
		got  uint16
		want uint16
	}{
		{"C_LOGIN", C_LOGINID, 1000},
		{"S_LOGIN", S_LOGINID, 1001},
		{"C_ENTER_GAME", C_ENTER_GAMEID, 1002},
		{"S_ENTER_GAME", S_ENTER_GAMEID, 1003},
		{"C_LEAVE_GAME", C_LEAVE_GAMEID, 1004},
		{"S_LEAVE_GAME", S_LEAVE_GAMEID, 1005},
		{"S_SPAWN", S_SPAWNID, 1006},
		{"S_DESPAWN", S_DESPAWNID, 1007},
		{"C_MOVE", C_MOVEID, 1008},
		{"S_MOVE", S_MOVEID, 1009},
		{"C_CHAT", C_CHATID, 1010},
		{"S_CHAT", S_CHATID, 1011},
	} {
		if c.got != c.want {
			t.Errorf("%s id = %d, want %d", c.name, c.got, c.want)
		}
	}
}
