// pstest-server: the Pub/Sub fake from cloud.google.com/go/pubsub/pstest, served
// on 127.0.0.1:PORT so the official clients reach it through PUBSUB_EMULATOR_HOST.
//
// Built offline from Debian's golang-google-cloud-dev (scripts/tools/pstest.sh).
// pstest picks its own ephemeral localhost port, and its API for choosing one
// differs between the Debian 12 and 13 packages; a plain TCP relay from the
// fixed port keeps this file to calls every version has, and lets a restarted
// server keep its port. The minimum ack deadline drops to 1 s so visibility
// tests take seconds; real Pub/Sub accepts modifyAckDeadline from 0 to 600 s.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"time"

	"cloud.google.com/go/pubsub/pstest"
)

func relay(client net.Conn, backend string) {
	defer client.Close()
	server, err := net.Dial("tcp", backend)
	if err != nil {
		return
	}
	defer server.Close()
	done := make(chan struct{}, 2)
	go func() { io.Copy(server, client); done <- struct{}{} }()
	go func() { io.Copy(client, server); done <- struct{}{} }()
	<-done
}

func main() {
	port := flag.Int("port", 8085, "port to listen on (127.0.0.1 only)")
	flag.Parse()
	pstest.SetMinAckDeadline(time.Second)
	fake := pstest.NewServer()
	listener, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("pstest listening on %s (fake at %s)\n", listener.Addr(), fake.Addr)
	for {
		conn, err := listener.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go relay(conn, fake.Addr)
	}
}
