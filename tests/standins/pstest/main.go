// pstest-server: the Pub/Sub fake from cloud.google.com/go/pubsub/pstest, served
// on 127.0.0.1:PORT so the official clients reach it through PUBSUB_EMULATOR_HOST.
//
// Built offline from Debian's golang-google-cloud-dev (scripts/tools/pstest.sh).
// The minimum ack deadline drops to 1 s so visibility tests take seconds, not
// tens of seconds; real Pub/Sub accepts modifyAckDeadline from 0 to 600 s anyway.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"time"

	"cloud.google.com/go/pubsub/pstest"
	pb "google.golang.org/genproto/googleapis/pubsub/v1"
	"google.golang.org/grpc"
)

func main() {
	port := flag.Int("port", 8085, "port to listen on (127.0.0.1 only)")
	flag.Parse()
	pstest.SetMinAckDeadline(time.Second)
	fake := pstest.NewServer() // also listens on an ephemeral localhost port; unused
	listener, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		log.Fatal(err)
	}
	server := grpc.NewServer()
	pb.RegisterPublisherServer(server, &fake.GServer)
	pb.RegisterSubscriberServer(server, &fake.GServer)
	fmt.Printf("pstest listening on %s\n", listener.Addr())
	log.Fatal(server.Serve(listener))
}
