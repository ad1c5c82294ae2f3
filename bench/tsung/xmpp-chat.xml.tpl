<?xml version="1.0"?>
<!-- tsung side of bench/xmpp-vs-tsung.sh; the same session as scenarios/bench_chat.ts. Placeholders @NAME@ are
     filled by the script. As in COMPONENTS.md section 5, with maxusers under the 20,000-fd limit of one VM. -->
<!DOCTYPE tsung SYSTEM "/usr/share/tsung/tsung-1.0.dtd">
<tsung loglevel="warning" version="1.0" dumptraffic="false">
  <clients><client host="localhost" use_controller_vm="true" maxusers="19000"/></clients>
  <servers><server host="127.0.0.1" port="@PORT@" type="tcp"/></servers>
  <load duration="@DURATION_S@" unit="second">
    <arrivalphase phase="1" duration="@ARRIVAL_S@" unit="second">
      <users maxnumber="@USERS@" arrivalrate="@RATE@" unit="second"/>
    </arrivalphase>
  </load>
  <options>
    <option type="ts_jabber" name="global_number" value="@USERS@"/><option type="ts_jabber" name="userid_max" value="@USERS@"/>
    <option type="ts_jabber" name="domain" value="localhost"/>
    <option type="ts_jabber" name="username" value="user_"/><option type="ts_jabber" name="passwd" value="password_"/>
  </options>
  <sessions>
    <session probability="100" name="xmpp-chat" type="ts_jabber">
      <!-- "login": TCP connect, stream open, SASL, stream restart, bind, session: the span amoc-ts times as
           xmpp.connection (socket opened to session established), so the two login figures measure the same phase -->
      <transaction name="login"><request><jabber type="connect" ack="local"/></request>
        <request><jabber type="auth_sasl" ack="local"/></request>
        <request><jabber type="connect" ack="local"/></request><request><jabber type="auth_sasl_bind" ack="local"/></request>
        <request><jabber type="auth_sasl_session" ack="local"/></request></transaction>
      <request><jabber type="presence:initial" ack="no_ack"/></request>
      <thinktime value="@CHAT_S@"/>
      <for from="1" to="@CHATS@" incr="1" var="i">
        <transaction name="chat"><request><jabber type="chat" ack="no_ack" size="32" destination="online"/></request></transaction>
        <thinktime value="@CHAT_S@"/>
      </for>
      <thinktime value="@HOLD_S@"/>
      <transaction name="close"><request><jabber type="close" ack="no_ack"/></request></transaction>
    </session>
  </sessions>
</tsung>
